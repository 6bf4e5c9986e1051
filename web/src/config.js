// The deployment's endpoints come from config.json, written beside the app when it is deployed (CDK
// BucketDeployment) or served by the local cloud at start: never hard-coded here.
let loaded = null;

export async function loadConfig() {
  if (loaded) return loaded;
  const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json could not be read (HTTP ${response.status})`);
  const config = await response.json();
  for (const key of ['HttpApiUrl', 'WebSocketUrl', 'MediaBaseUrl']) {
    if (typeof config[key] !== 'string' || !config[key]) throw new Error(`config.json has no ${key}`);
  }
  loaded = { ...config, HttpApiUrl: config.HttpApiUrl.replace(/\/?$/, '/') };
  return loaded;
}

export function config() {
  if (!loaded) throw new Error('config not loaded');
  return loaded;
}
