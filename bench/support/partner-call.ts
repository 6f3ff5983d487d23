/**
 * A bench fixture's partner: JSON calls to the local stack with a business's API key, throwing on
 * any non-2xx answer (a fixture that cannot be set up must not be measured).
 */
export function partnerCall(apiBase: string, apiKey: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
}
