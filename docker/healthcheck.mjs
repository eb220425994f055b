// Container HEALTHCHECK: GET /healthz on the service's ops port. node-slim has no curl, and Node's fetch is
// enough. The port: METRICS_PORT (the five services), else SANDBOX_PORT (the sandbox), else the image's default.
const port = process.env.METRICS_PORT || process.env.SANDBOX_PORT || process.env.HEALTH_PORT || '9101';
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
