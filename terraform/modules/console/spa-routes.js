// CloudFront Function (cloudfront-js-2.0), viewer request of the console's S3 behaviour only: the SPA's
// own routes (/calls/CA123, /callback?code=…) are index.html; a path naming a file (an extension in its
// last segment, or anything under /assets/) is fetched as it is, so a missing file stays a 403/404
// instead of becoming the page. The API behaviours never run this, so their 401/403/404 stay theirs.
// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the function named handler.
function handler(event) {
  const request = event.request;
  const uri = request.uri;
  if (uri.indexOf('/assets/') === 0) return request;
  const last = uri.substring(uri.lastIndexOf('/') + 1);
  if (!/\.[A-Za-z0-9]+$/.test(last)) request.uri = '/index.html';
  return request;
}
