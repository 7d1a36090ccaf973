package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/llm"
)

// generateOptions are the settings of question-to-SQL generation.
type generateOptions struct {
	llm               llm.Config
	reasoning         bool
	attempts, budget  int
	examplesPath      string
	examplesPerPrompt int
	sqlLabURL         string
	redisURL          string
	cacheSize         int
	cacheTTL          time.Duration
	dryRun            string
	dryRunTimeout     time.Duration
	dryRunMaxCost     float64
	temperature       float64
	tokens            int
	ollamaAddr        string
}

func (o *generateOptions) define(s *settings) {
	s.String(&o.llm.Model, "llm-model", "", "model name; empty finds one by convention: OPENAI_API_KEY/OPENAI_BASE_URL/OPENAI_MODEL, else a local Ollama's first chat model")
	s.String(&o.llm.BaseURL, "llm-base-url", llm.DefaultOpenAIBaseURL, "base URL of any OpenAI-compatible chat-completions endpoint")
	s.String(&o.llm.APIKey, "llm-api-key", "", "API key of the model endpoint (prefer the environment variable)")
	s.Float(&o.temperature, "llm-temperature", 0, "sampling temperature")
	s.Int(&o.tokens, "llm-max-tokens", 1024, "most tokens one answer may have")
	s.Bool(&o.reasoning, "llm-reasoning", false, "the model is a reasoning model: send max_completion_tokens and no temperature")
	s.Duration(&o.llm.Timeout, "llm-timeout", 60*time.Second, "timeout of one call to the model")
	s.Int(&o.llm.MaxConcurrency, "llm-concurrency", 8, "calls to the model in flight at once")
	s.Int(&o.llm.MaxRetries, "llm-retries", 3, "retries of a call after 429, 5xx or a timeout")
	s.String(&o.ollamaAddr, "ollama-addr", llm.DefaultOllamaAddr, "where to look for Ollama (host:port) when no model is named and OPENAI_API_KEY is unset; empty does not look")
	s.Int(&o.attempts, "generate-attempts", 3, "model answers tried per question before giving up (each refused answer is fed back)")
	s.Int(&o.budget, "schema-budget", 3000, "most tokens of schema the prompt may carry")
	s.String(&o.examplesPath, "examples", "", "file of approved question/SQL pairs (YAML) shown to the model when similar")
	s.Int(&o.examplesPerPrompt, "examples-per-prompt", 3, "approved examples per prompt")
	s.String(&o.sqlLabURL, "sqllab-url", "", "Superset address users open in a browser, for SQL Lab links in answers")
	s.String(&o.redisURL, "redis-url", "", "Redis URL (redis://host:6379/0) for an answer cache shared by replicas; empty keeps it in memory")
	s.Int(&o.cacheSize, "cache-size", 10000, "answers kept by the in-memory cache")
	s.Duration(&o.cacheTTL, "cache-ttl", 24*time.Hour, "how long an answer is reused; 0 turns the cache off")
	s.String(&o.dryRun, "dry-run", "", "warehouses to plan answers against, \"database=dsn\" separated by \";\" (PostgreSQL URL or MySQL DSN); use a read-only account")
	s.Duration(&o.dryRunTimeout, "dry-run-timeout", 5*time.Second, "statement timeout of one dry run")
	s.Float(&o.dryRunMaxCost, "dry-run-max-cost", 0, "refuse plans estimated above this cost (MariaDB 10.x: rows examined); 0 means no ceiling")
}

// apply adds the pipeline's options when a model is configured: named by
// the settings, which always win, or else found by convention.
func (o *generateOptions) apply(ctx context.Context, env *environ, opts *app.Options) error {
	if o.llm.Model != "" {
		opts.ModelSource, opts.ModelReason = "flags", "--llm-model (TEXT2SQL_LLM_MODEL) names the model"
	} else {
		c := llm.Discover(ctx, env.getenv, o.ollamaAddr)
		opts.ModelSource, opts.ModelReason = c.Source, c.Reason
		if c.Config.Model == "" {
			return nil
		}
		o.llm.Model, o.llm.BaseURL, o.llm.APIKey = c.Config.Model, c.Config.BaseURL, c.Config.APIKey
	}
	if o.tokens < 1 || o.attempts < 1 || o.budget < 1 {
		return errors.New("--llm-max-tokens, --generate-attempts and --schema-budget must be positive")
	}
	cfg := o.llm
	cfg.Temperature, cfg.MaxTokens = float32(o.temperature), o.tokens
	cfg.OmitTemperature, cfg.UseMaxCompletionTokens = o.reasoning, o.reasoning
	opts.Model = cfg
	opts.Generate = generate.Config{
		MaxAttempts: o.attempts, SchemaBudget: o.budget, Examples: o.examplesPerPrompt, SupersetURL: o.sqlLabURL,
	}
	if o.examplesPath != "" {
		x, err := generate.LoadExamples(o.examplesPath)
		if err != nil {
			return fmt.Errorf("--examples: %w", err)
		}
		opts.Examples = x
	}
	opts.Cache = app.Cache{RedisURL: o.redisURL, Size: o.cacheSize, TTL: o.cacheTTL}
	dry, err := o.dryRuns()
	if err != nil {
		return err
	}
	opts.DryRuns = dry
	return nil
}

// dryRuns parses --dry-run; the pipeline connects on first use.
func (o *generateOptions) dryRuns() ([]app.DryRun, error) {
	var out []app.DryRun
	for _, item := range strings.Split(o.dryRun, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, dsn, ok := strings.Cut(item, "=")
		name, dsn = strings.TrimSpace(name), strings.TrimSpace(dsn)
		if !ok || name == "" || dsn == "" {
			return nil, fmt.Errorf("--dry-run: %q is not database=dsn", redactDSN(item))
		}
		out = append(out, app.DryRun{Database: name, DSN: dsn, Timeout: o.dryRunTimeout, MaxCost: o.dryRunMaxCost})
	}
	return out, nil
}

// redactDSN keeps what is before "=" so a malformed setting can be named
// without printing a password.
func redactDSN(item string) string {
	name, _, _ := strings.Cut(item, "=")
	return strings.TrimSpace(name) + "=…"
}
