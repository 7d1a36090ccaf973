// Package llm is the transport to an OpenAI-compatible chat-completions
// endpoint: one Client with per-call timeouts, retries with exponential
// backoff and full jitter (honouring Retry-After), a concurrency limit,
// typed errors that say what failed (Kind), and Prometheus metrics. ExtractSQL
// pulls the SQL out of a model's answer.
//
// The package holds no prompt logic: callers build the messages and judge
// the extracted SQL themselves (it is untrusted model output until a
// validator has parsed and checked it).
package llm
