package link

import (
	"fmt"
	"strings"

	"github.com/tiktoken-go/tokenizer"
)

// Tokenizer counts the tokens a model would see for a text. Implementations
// must be safe for concurrent use.
type Tokenizer interface {
	Count(s string) int
}

// Encodings known to NewTokenizer. Both are embedded in the binary: nothing
// is downloaded at run time.
const (
	// EncodingCl100k is the encoding of GPT-4 and GPT-3.5 class models.
	EncodingCl100k = "cl100k_base"
	// EncodingO200k is the encoding of GPT-4o and later models.
	EncodingO200k = "o200k_base"
	// DefaultEncoding is the encoding used when none is configured.
	DefaultEncoding = EncodingCl100k
)

// bpe counts tokens with a byte-pair encoding from github.com/tiktoken-go/tokenizer,
// whose vocabularies are compiled into the binary.
type bpe struct {
	codec tokenizer.Codec
}

// NewTokenizer returns the BPE tokenizer of encoding (cl100k_base or
// o200k_base; "" means DefaultEncoding).
func NewTokenizer(encoding string) (Tokenizer, error) {
	if encoding == "" {
		encoding = DefaultEncoding
	}
	switch strings.ToLower(encoding) {
	case EncodingCl100k:
		c, err := tokenizer.Get(tokenizer.Cl100kBase)
		if err != nil {
			return nil, err
		}
		return bpe{c}, nil
	case EncodingO200k:
		c, err := tokenizer.Get(tokenizer.O200kBase)
		if err != nil {
			return nil, err
		}
		return bpe{c}, nil
	}
	return nil, fmt.Errorf("unknown token encoding %q (want %s or %s)", encoding, EncodingCl100k, EncodingO200k)
}

// Count returns the number of tokens in s. Should the codec ever fail, the
// byte length is returned: every token holds at least one byte, so it is an
// upper bound and a budget checked against it is still kept.
func (b bpe) Count(s string) int {
	n, err := b.codec.Count(s)
	if err != nil {
		return len(s)
	}
	return n
}
