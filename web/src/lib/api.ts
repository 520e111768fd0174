// The HTTP half of the protocol: POST /v1/<op> with a JSON body, typed errors.
import { ApiError } from './types';

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export class HttpApi {
  constructor(
    private readonly base: string,
    private readonly fetchFn: Fetch,
  ) {}

  /** Calls one operation. Rejects with ApiError: the server's error, or `disconnected` (retryable)
   *  when the server could not be reached. */
  async call<T = Record<string, unknown>>(op: string, body: Record<string, unknown> = {}, token?: string): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    let res;
    try {
      res = await this.fetchFn(`${this.base}/v1/${op}`, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch {
      throw new ApiError('disconnected', 'cannot reach the server', true);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError('internal', `unexpected response (HTTP ${res.status})`, false, res.status);
    }
    if (res.status !== 200) {
      const e = (parsed as { error?: { code?: string; message?: string; retryable?: boolean } })?.error;
      throw new ApiError(e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, !!e?.retryable, res.status);
    }
    return parsed as T;
  }
}
