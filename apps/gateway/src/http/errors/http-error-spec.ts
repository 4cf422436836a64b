/** How a domain error reaches an HTTP client: status, a short title, and what to do about it. */
export interface HttpErrorSpec {
  readonly status: number;
  readonly title: string;
  readonly fix: string;
}
