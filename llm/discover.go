package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Finding a model by convention: when the operator names no model, the
// OpenAI ecosystem's environment variables are used if set, else a local
// Ollama if one answers.

// Conventional environment variables, as the OpenAI SDKs read them.
const (
	EnvOpenAIKey     = "OPENAI_API_KEY"
	EnvOpenAIBaseURL = "OPENAI_BASE_URL"
	EnvOpenAIModel   = "OPENAI_MODEL"
)

// Defaults of the conventions.
const (
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	// DefaultOpenAIModel is used when only OPENAI_API_KEY is set: small,
	// cheap and good at SQL.
	DefaultOpenAIModel = "gpt-4o-mini"
	// DefaultOllamaAddr is where Ollama listens unless told otherwise.
	DefaultOllamaAddr = "127.0.0.1:11434"
	// ollamaProbeTimeout keeps start-up quick when nothing listens, or
	// something slow does.
	ollamaProbeTimeout = 500 * time.Millisecond
)

// Choice is a model endpoint and why it was chosen.
type Choice struct {
	// Config holds BaseURL, Model and APIKey; Model is empty when no
	// model was found.
	Config Config
	// Source names the convention: "flags", "openai-env", "ollama" or
	// "" when none applied.
	Source string
	// Reason says in a sentence why this model serves, or how to
	// configure one when none does.
	Reason string
}

// NoModelReason is what a person reads when no model is configured.
const NoModelReason = "no model configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL), " +
	"run Ollama on " + DefaultOllamaAddr + " with a chat model pulled, or pass --llm-model and --llm-base-url; " +
	"validating SQL works without one"

// Discover applies the conventions in order: OPENAI_* variables read
// through getenv, then an Ollama at ollamaAddr (host:port; empty skips
// it). A Choice without a model says how to configure one.
func Discover(ctx context.Context, getenv func(string) (string, bool), ollamaAddr string) Choice {
	get := func(k string) string { v, _ := getenv(k); return strings.TrimSpace(v) }
	if key := get(EnvOpenAIKey); key != "" {
		c := Choice{Config: Config{APIKey: key, BaseURL: get(EnvOpenAIBaseURL), Model: get(EnvOpenAIModel)}, Source: "openai-env"}
		if c.Config.BaseURL == "" {
			c.Config.BaseURL = DefaultOpenAIBaseURL
		}
		c.Reason = "OPENAI_API_KEY is set"
		if c.Config.Model == "" {
			c.Config.Model = DefaultOpenAIModel
			c.Reason += "; OPENAI_MODEL is not, so the default model " + DefaultOpenAIModel + " serves"
		} else {
			c.Reason += "; OPENAI_MODEL names the model"
		}
		return c
	}
	if ollamaAddr == "" {
		return Choice{Reason: NoModelReason}
	}
	model, err := ollamaChatModel(ctx, ollamaAddr)
	switch {
	case err != nil:
		return Choice{Reason: NoModelReason}
	case model == "":
		return Choice{Reason: "Ollama answers on " + ollamaAddr + " but has no chat model pulled (ollama pull llama3.2); " + NoModelReason}
	}
	return Choice{
		Config: Config{BaseURL: "http://" + ollamaAddr + "/v1", Model: model},
		Source: "ollama",
		Reason: "no OPENAI_API_KEY, and Ollama answers on " + ollamaAddr + "; its first chat model serves",
	}
}

// ollamaChatModel asks Ollama which models it has (GET /api/tags) and
// returns the first that chats; embedding models cannot answer questions.
func ollamaChatModel(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ollamaProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/tags", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ollama: GET /api/tags answered %s", resp.Status)
	}
	var tags struct {
		Models []struct {
			Name    string `json:"name"`
			Model   string `json:"model"`
			Details struct {
				Family   string   `json:"family"`
				Families []string `json:"families"`
			} `json:"details"`
		} `json:"models"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&tags); err != nil {
		return "", fmt.Errorf("ollama: GET /api/tags: %w", err)
	}
	for _, m := range tags.Models {
		name := m.Name
		if name == "" {
			name = m.Model
		}
		if name == "" || isEmbedding(name, m.Details.Family, m.Details.Families) {
			continue
		}
		return name, nil
	}
	return "", nil
}

// isEmbedding recognises embedding-only models by name and family (BERT
// families are encoders).
func isEmbedding(name, family string, families []string) bool {
	if strings.Contains(strings.ToLower(name), "embed") {
		return true
	}
	for _, f := range append([]string{family}, families...) {
		if strings.Contains(strings.ToLower(f), "bert") {
			return true
		}
	}
	return false
}
