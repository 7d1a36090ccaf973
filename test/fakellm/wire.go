package fakellm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// The OpenAI chat-completions wire format, written out here rather than
// borrowed from a client library so the fake checks what clients send.

// Request is one decoded POST /v1/chat/completions.
type Request struct {
	Model               string
	Messages            []Message
	Temperature         *float64
	TopP                *float64
	MaxTokens           *int
	MaxCompletionTokens *int
	// ResponseFormat is response_format.type ("json_object",
	// "json_schema", "text"), "" when absent.
	ResponseFormat string
	Stop           []string
	Seed           *int64
	N              *int
	Stream         bool
	User           string

	// Header is the HTTP header as received (Authorization included).
	Header http.Header
	// Body is the raw JSON body, for exact matching or hashing.
	Body []byte
}

// Message is one chat message. Content given as an array of parts is
// joined from its text parts.
type Message struct {
	Role    string
	Content string
	Name    string
}

type wireRequest struct {
	Model               string        `json:"model"`
	Messages            []wireMessage `json:"messages"`
	Temperature         *float64      `json:"temperature"`
	TopP                *float64      `json:"top_p"`
	MaxTokens           *int          `json:"max_tokens"`
	MaxCompletionTokens *int          `json:"max_completion_tokens"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Stop   json.RawMessage `json:"stop"`
	Seed   *int64          `json:"seed"`
	N      *int            `json:"n"`
	Stream bool            `json:"stream"`
	User   string          `json:"user"`
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Name    string          `json:"name"`
}

// decodeRequest parses a chat-completions body as the API does,
// returning a message fit for a 400 answer on failure.
func decodeRequest(body []byte) (*Request, error) {
	var w wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, errors.New("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)")
	}
	if w.Model == "" {
		return nil, errors.New("you must provide a model parameter")
	}
	if len(w.Messages) == 0 {
		return nil, errors.New("[] is too short - 'messages'")
	}
	r := &Request{
		Model: w.Model, Temperature: w.Temperature, TopP: w.TopP, MaxTokens: w.MaxTokens,
		MaxCompletionTokens: w.MaxCompletionTokens, Seed: w.Seed, N: w.N, Stream: w.Stream,
		User: w.User, Body: body,
	}
	if w.ResponseFormat != nil {
		r.ResponseFormat = w.ResponseFormat.Type
	}
	for i, m := range w.Messages {
		switch m.Role {
		case "system", "user", "assistant", "developer", "tool":
		default:
			return nil, fmt.Errorf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'. - 'messages[%d].role'", m.Role, i)
		}
		content, err := decodeContent(m.Content)
		if err != nil {
			return nil, fmt.Errorf("Invalid type for 'messages[%d].content': %v", i, err)
		}
		r.Messages = append(r.Messages, Message{Role: m.Role, Content: content, Name: m.Name})
	}
	if len(w.Stop) > 0 && string(w.Stop) != "null" {
		var one string
		if err := json.Unmarshal(w.Stop, &one); err == nil {
			r.Stop = []string{one}
		} else if err := json.Unmarshal(w.Stop, &r.Stop); err != nil {
			return nil, errors.New("Invalid type for 'stop': expected a string or an array of strings")
		}
	}
	return r, nil
}

// decodeContent accepts a string, null, or an array of content parts.
func decodeContent(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("expected a string or an array of content parts")
	}
	var b bytes.Buffer
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

type wireResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []wireChoice `json:"choices"`
	Usage             *wireUsage   `json:"usage,omitempty"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type wireChoice struct {
	Index        int             `json:"index"`
	Message      wireOutMessage  `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type wireOutMessage struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// APIError is the body of an error answer: {"error": {...}}.
type APIError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"`
	Code    any    `json:"code"`
}

type wireError struct {
	Error APIError `json:"error"`
}

type wireModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type wireModelList struct {
	Object string      `json:"object"`
	Data   []wireModel `json:"data"`
}

// defaultError is what the OpenAI API answers for a status when the
// reply does not say otherwise.
func defaultError(status int) APIError {
	switch status {
	case http.StatusUnauthorized:
		return APIError{Message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
			Type: "invalid_request_error", Code: "invalid_api_key"}
	case http.StatusForbidden:
		return APIError{Message: "You are not allowed to sample from this model", Type: "invalid_request_error", Code: "model_not_allowed"}
	case http.StatusNotFound:
		return APIError{Message: "The model does not exist or you do not have access to it.", Type: "invalid_request_error", Code: "model_not_found"}
	case http.StatusTooManyRequests:
		return APIError{Message: "Rate limit reached for requests. Please try again later.", Type: "requests", Code: "rate_limit_exceeded"}
	case http.StatusServiceUnavailable:
		return APIError{Message: "The server is overloaded or not ready yet.", Type: "server_error"}
	}
	if status >= 500 {
		return APIError{Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}
	}
	return APIError{Message: http.StatusText(status), Type: "invalid_request_error"}
}
