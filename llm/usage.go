package llm

// EstimateUsage approximates the token counts of one exchange at about four
// characters a token, with the per-message overhead chat formats have. It
// stands in for counts an answer did not come with: replayed answers
// recorded without them, and endpoints played in tests.
func EstimateUsage(msgs []Message, answer string) Usage {
	prompt := 3
	for _, m := range msgs {
		prompt += 4 + estimateTokens(m.Content)
	}
	completion := estimateTokens(answer)
	return Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

func estimateTokens(s string) int {
	if s == "" {
		return 0
	}
	return (len(s) + 3) / 4
}
