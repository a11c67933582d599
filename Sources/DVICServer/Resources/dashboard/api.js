// The REST API (Spec/openapi.yaml) with the session's bearer token. The token lives
// only in memory: a reload asks to sign in again, and no script can read it from
// storage later.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor() {
    this.token = null;
    this.role = null;
    this.username = null;
    this.onUnauthorized = () => {};
  }

  async login(username, password) {
    const body = await this.request('POST', '/v1/login', { username, password }, false);
    this.token = body.token;
    this.role = body.role;
    this.username = username;
    return body;
  }

  async logout() {
    if (this.token) {
      try {
        await this.request('POST', '/v1/logout', undefined, true);
      } catch {
        // The session ends here either way.
      }
    }
    this.token = null;
    this.role = null;
    this.username = null;
  }

  get(path, query) {
    return this.request('GET', withQuery(path, query));
  }

  post(path, body) {
    return this.request('POST', path, body);
  }

  async request(method, path, body, authorized = true) {
    const headers = { Accept: 'application/json' };
    if (authorized && this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, 'network', `the server did not answer (${error.message})`);
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const error = json && json.error ? json.error : {};
      const apiError = new ApiError(response.status, error.code, error.message || text || response.statusText);
      if (response.status === 401 && authorized && this.token) this.onUnauthorized(apiError);
      throw apiError;
    }
    return json;
  }

  /** Whether the signed-in role may do what `required` may (viewer < operator < admin). */
  can(required) {
    const rank = { viewer: 0, operator: 1, admin: 2 };
    return (rank[this.role] ?? -1) >= rank[required];
  }
}

export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}
