/**
 * The web console's hosting rules (issue 21): its bucket is never public and is read by CloudFront
 * through origin access control only; the API paths (/mcp above all) are never cached and take every
 * method; the console's pages carry the security headers (CSP with frame-ancestors 'none', HSTS, nosniff,
 * no framing); the SPA fallback is not a distribution-wide custom error response (which would turn the
 * API's 401/403/404 into the page); a CLOUDFRONT-scope WAF guards the distribution; its 5xx rate alarms.
 */
import path from 'node:path';
import { blocks, type Hcl, labelled, locals, strings, type TfModule } from './parse.js';

const unwrap = (v: unknown) => (typeof v === 'string' ? v.replace(/^\$\{([\s\S]*)\}$/, '$1').trim() : v);
const asList = (v: unknown): Hcl[] => (Array.isArray(v) ? v : v && typeof v === 'object' ? [v as Hcl] : []);

/** Every cache behaviour of a distribution, with the path patterns it covers as text (dynamic ones expanded through locals). */
function behaviours(module: TfModule, distribution: Hcl): { paths: string; body: Hcl }[] {
  const out = asList(distribution.ordered_cache_behavior).map((b) => ({ paths: String(b.path_pattern), body: b }));
  for (const dynamic of asList(distribution.dynamic)) {
    for (const d of asList(dynamic.ordered_cache_behavior)) {
      const forEach = String(unwrap(d.for_each));
      const local = /^local\.([\w-]+)$/.exec(forEach);
      const paths = local ? JSON.stringify(locals(module).get(local[1] as string) ?? '') : forEach;
      for (const content of asList(d.content)) out.push({ paths, body: content });
    }
  }
  return out;
}

export function checkConsoleRules(modules: TfModule[], root: string): string[] {
  const problems: string[] = [];
  const rel = (f: string) => path.relative(root, f);
  const all = (kind: 'resource' | 'data', type: string) =>
    modules.flatMap((module) =>
      blocks(module, kind)
        .filter((b) => b.type === type)
        .map((b) => ({ module, ...b })),
    );

  // --- nobody but CloudFront reads a bucket: no Allow to everyone, no public ACL ---
  for (const d of all('data', 'aws_iam_policy_document')) {
    for (const st of (d.body.statement ?? []) as Hcl[]) {
      if (st.effect === 'Deny') continue;
      if (asList(st.principals).some((p) => strings(p.identifiers).includes('*')))
        problems.push(`${rel(d.file)}: data.aws_iam_policy_document.${d.name} allows everyone (a public bucket)`);
    }
  }
  for (const a of all('resource', 'aws_s3_bucket_acl').filter((a) => /public/.test(String(a.body.acl))))
    problems.push(`${rel(a.file)}: aws_s3_bucket_acl.${a.name} is ${a.body.acl}`);

  const distributions = all('resource', 'aws_cloudfront_distribution');
  if (distributions.length === 0) problems.push('no CloudFront distribution (the web console)');
  const cachePolicyNames = new Map(
    all('data', 'aws_cloudfront_cache_policy').map((c) => [
      `data.aws_cloudfront_cache_policy.${c.name}.id`,
      c.body.name,
    ]),
  );
  const headerPolicies = new Map(
    all('resource', 'aws_cloudfront_response_headers_policy').map((p) => [
      `aws_cloudfront_response_headers_policy.${p.name}.id`,
      p,
    ]),
  );

  for (const d of distributions) {
    const where = `${rel(d.file)}: aws_cloudfront_distribution.${d.name}`;
    for (const origin of asList(d.body.origin)) {
      if (
        /bucket_regional_domain_name|s3\.amazonaws\.com/.test(String(origin.domain_name)) &&
        !origin.origin_access_control_id
      )
        problems.push(`${where}: S3 origin ${origin.origin_id} without origin access control`);
    }
    if (!d.body.web_acl_id) problems.push(`${where}: no WAF (web_acl_id)`);
    if (asList(d.body.custom_error_response).some((e) => e.response_page_path))
      problems.push(
        `${where}: custom error responses apply to every origin and turn the API's errors into the page (rewrite SPA routes in a function on the S3 behaviour)`,
      );

    // The console's pages: the response headers policy of the default behaviour.
    const defaults = asList(d.body.default_cache_behavior)[0] ?? {};
    const policy = headerPolicies.get(String(unwrap(defaults.response_headers_policy_id)));
    if (!policy) problems.push(`${where}: the default behaviour has no response headers policy (security headers)`);
    else {
      const security = asList(policy.body.security_headers_config)[0] ?? {};
      const csp = asList(security.content_security_policy)[0]?.content_security_policy;
      const cspText = JSON.stringify(
        csp === undefined
          ? null
          : String(unwrap(csp)).startsWith('local.')
            ? locals(policy.module).get(String(unwrap(csp)).slice(6))
            : csp,
      );
      const missing: string[] = [];
      if (!/default-src 'self'/.test(cspText)) missing.push("CSP default-src 'self'");
      if (!/frame-ancestors 'none'/.test(cspText)) missing.push("CSP frame-ancestors 'none'");
      const hsts = asList(security.strict_transport_security)[0];
      if (!hsts || Number(hsts.access_control_max_age_sec) < 31536000 || hsts.include_subdomains !== true)
        missing.push('HSTS (a year or more, includeSubDomains)');
      if (!asList(security.content_type_options)[0]) missing.push('X-Content-Type-Options');
      if (asList(security.frame_options)[0]?.frame_option !== 'DENY') missing.push('X-Frame-Options DENY');
      if (!asList(security.referrer_policy)[0]) missing.push('Referrer-Policy');
      if (missing.length)
        problems.push(`${rel(policy.file)}: the console's response headers policy lacks ${missing.join(', ')}`);
    }

    // The API through the console host: never cached, every method, the viewer's headers forwarded.
    const all_ = behaviours(d.module, d.body);
    for (const apiPath of ['/mcp*', '/.well-known/*']) {
      const b = all_.find((x) => x.paths.includes(apiPath));
      if (!b) {
        problems.push(`${where}: no behaviour for ${apiPath} (to the ALB)`);
        continue;
      }
      const cache = cachePolicyNames.get(String(unwrap(b.body.cache_policy_id)));
      if (cache !== 'Managed-CachingDisabled')
        problems.push(
          `${where}: ${apiPath} is cached (cache policy ${cache ?? b.body.cache_policy_id}, not Managed-CachingDisabled)`,
        );
      if (!strings(b.body.allowed_methods).includes('POST')) problems.push(`${where}: ${apiPath} refuses POST`);
      if (!b.body.origin_request_policy_id)
        problems.push(`${where}: ${apiPath} forwards no viewer headers (Authorization, Mcp-Session-Id, cookies)`);
    }
  }

  // --- WAF at the edge: a CLOUDFRONT-scope ACL (resource, or the shared module called with that scope) ---
  const scopes = [
    ...all('resource', 'aws_wafv2_web_acl').map((a) => a.body.scope),
    ...modules.flatMap((m) => [...labelled(m, 'module').values()].map((call) => call.scope)),
  ];
  if (!scopes.includes('CLOUDFRONT')) problems.push('no WAF web ACL with scope CLOUDFRONT (the console distribution)');

  const alarms = all('resource', 'aws_cloudwatch_metric_alarm');
  if (
    !alarms.some((a) => /AWS\/CloudFront/.test(JSON.stringify(a.body)) && /5xxErrorRate/.test(JSON.stringify(a.body)))
  )
    problems.push("no CloudWatch alarm for the console distribution's 5xx rate (AWS/CloudFront 5xxErrorRate)");
  return problems;
}
