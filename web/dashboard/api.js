// The public API with the merchant key kept for this tab (session storage); problem+json errors.

export const KEY_STORAGE = "customer-hub.api-key";
const API_BASE = (document.querySelector("meta[name=customer-hub-api]")?.content || "").replace(/\/$/, "");

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** The field errors of a 422, as {fieldName: message}, by the last name in each `loc`. */
  fieldErrors(fields) {
    const found = {};
    for (const error of this.problem.errors || []) {
      const field = [...(error.loc || [])].reverse().find((part) => fields.includes(part));
      if (field && !(field in found)) found[field] = error.msg || this.message;
    }
    return found;
  }
}

/** A request to the API; the JSON answer, or null for 204. */
export async function api(path, { method = "GET", body } = {}) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const headers = { Authorization: `Bearer ${key}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API_BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}
