// Package browser drives the question page in headless Chromium against
// the real `text2sql serve` binary and the fake model, as a person would.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/test/serveproc"
)

var updateDocs = flag.Bool("update-docs", false, "write the page's screenshot to docs/ for the README")

const pageToken = "page-caller-token-0123456789"

// The model's answers: a statement that writes whenever the conversation
// asks to delete (so every repair fails too), a join for the follow-up by
// country, a count otherwise.
func model(_ context.Context, req *fakellm.Request) fakellm.Reply {
	var asked strings.Builder
	for _, m := range req.Messages {
		if m.Role == "user" {
			asked.WriteString(m.Content)
		}
	}
	last := req.Messages[len(req.Messages)-1].Content
	switch {
	case strings.Contains(asked.String(), "Delete the"):
		return fakellm.Reply{Content: "```sql\nDELETE FROM orders WHERE status = 'refunded'\n```"}
	case strings.Contains(last, "country"):
		return fakellm.Reply{Content: "```sql\nSELECT c.country, COUNT(*) AS shipped FROM orders o JOIN customers c ON c.id = o.customer_id " +
			"WHERE o.status = 'shipped' GROUP BY c.country ORDER BY shipped DESC\n```"}
	}
	return fakellm.Reply{Content: "```sql\nSELECT COUNT(*) FROM orders WHERE status = 'shipped'\n```"}
}

// chromium finds the browser; under CI=true a missing one fails the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium is not installed (apt-get install -y chromium; scripts/setup.d/60-chromium.sh does it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium may still be writing its profile when the
	// test's own cleanup would remove it.
	profile, err := os.MkdirTemp("", "text2sql-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, "read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func activeID(t *testing.T, ctx context.Context) string {
	t.Helper()
	var id string
	run(t, ctx, "active element", chromedp.Evaluate(`document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ""`, &id))
	return id
}

func startServe(t *testing.T, bin string, args ...string) *serveproc.Process {
	t.Helper()
	p, err := serveproc.Start(bin, []string{"TEXT2SQL_CALLERS=page", "TEXT2SQL_CALLER_TOKEN_PAGE=" + pageToken}, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("serve logs:\n%s", p.Logs())
		}
	})
	return p
}

// TestQuestionPage: a person with a caller token asks, follows up, meets
// a refusal, checks the SQL Lab link, validates SQL of their own, all with
// the keyboard.
func TestQuestionPage(t *testing.T) {
	chromium(t)
	bin, err := serveproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	llm := fakellm.NewTest(t, fakellm.ResponderFunc(model))
	p := startServe(t, bin, "--llm-model", "fake-model", "--llm-base-url", llm.URL(), "--llm-retries", "0",
		"--sqllab-url", "https://superset.test", "--rate-limit", "0")
	// The browser's time runs from here: building the binary on a busy
	// machine must not eat it.
	ctx := browser(t)
	base := "http://" + p.HTTPAddr + "/"

	// Without a token the service answers 401 and the page asks for one.
	run(t, ctx, "load the page", chromedp.Navigate(base), chromedp.WaitVisible("#token", chromedp.ByID))
	if got := text(t, ctx, "#database-help"); !strings.Contains(got, "token") {
		t.Errorf("without a token the page says %q", got)
	}
	run(t, ctx, "enter the token",
		chromedp.SendKeys("#token", pageToken, chromedp.ByID),
		chromedp.Click("#token-save", chromedp.ByID),
		chromedp.WaitReady(`#database option[value="shop"]`, chromedp.ByQuery))
	var stored string
	run(t, ctx, "token storage", chromedp.Evaluate(`sessionStorage.getItem("text2sql.token") + "|" + (localStorage.length)`, &stored))
	if stored != pageToken+"|0" {
		t.Errorf("the token is kept as %q, want in sessionStorage only", stored)
	}
	if got := text(t, ctx, "#model"); !strings.Contains(got, "fake-model") || !strings.Contains(got, "--llm-model") {
		t.Errorf("the page says %q about the model", got)
	}

	// Keyboard only: Tab from the database picker reaches the Ask tab,
	// then the question box, then the Ask button; the inactive tab is not
	// a Tab stop (arrow keys move between tabs).
	run(t, ctx, "focus the database picker", chromedp.Focus("#database", chromedp.ByID))
	var order []string
	for range 8 {
		run(t, ctx, "Tab", chromedp.KeyEvent(kb.Tab))
		order = append(order, activeID(t, ctx))
	}
	joined := strings.Join(order, " ")
	if !strings.Contains(joined, "tab-ask question ask new-conversation") || strings.Contains(joined, "tab-validate") {
		t.Errorf("tab order from the database picker: %v", order)
	}
	run(t, ctx, "focus the question", chromedp.Focus("#question", chromedp.ByID))

	// Ask with Enter.
	ask := func(question string, n int) string {
		t.Helper()
		run(t, ctx, "ask "+question,
			chromedp.SendKeys("#question", question, chromedp.ByID),
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(fmt.Sprintf("#conversation li:nth-child(%d) .answer code, #conversation li:nth-child(%d) .refusal", n, n), chromedp.ByQuery))
		return fmt.Sprintf("#conversation li:nth-child(%d)", n)
	}
	first := ask("How many orders were shipped?", 1)
	sql := text(t, ctx, first+" .answer code")
	if !strings.Contains(sql, "FROM orders") || !strings.Contains(sql, "\nWHERE") {
		t.Errorf("the SQL is not shown formatted: %q", sql)
	}
	var highlighted int
	run(t, ctx, "highlighting", chromedp.Evaluate(`document.querySelectorAll("#conversation li:nth-child(1) .hljs-keyword").length`, &highlighted))
	if highlighted == 0 {
		t.Error("the SQL is not highlighted")
	}
	if meta := text(t, ctx, first+" .meta"); !strings.Contains(meta, "public.orders") || !strings.Contains(meta, "1 attempt") {
		t.Errorf("answer details %q", meta)
	}

	// The SQL Lab link is the service's, opening the same SQL in a new tab.
	var href, target string
	var ok bool
	run(t, ctx, "SQL Lab link",
		chromedp.AttributeValue(first+" .open-sqllab", "href", &href, &ok, chromedp.ByQuery),
		chromedp.AttributeValue(first+" .open-sqllab", "target", &target, nil, chromedp.ByQuery))
	api := generate(t, p.HTTPAddr, "How many orders were shipped?")
	if href != api.SqllabURL || target != "_blank" {
		t.Errorf("SQL Lab link %q (target %q), the API's is %q", href, target, api.SqllabURL)
	}
	if u, err := url.Parse(href); err != nil || u.Host != "superset.test" || u.Path != "/sqllab/" || u.Query().Get("sql") != api.SQL || u.Query().Get("dbid") != "1" {
		t.Errorf("SQL Lab link %q does not open %q on database 1", href, api.SQL)
	}

	// A follow-up carries the conversation.
	second := ask("And by country?", 2)
	if got := text(t, ctx, second+" .answer code"); !strings.Contains(got, "GROUP BY") || !strings.Contains(got, "\nJOIN") {
		t.Errorf("follow-up SQL %q", got)
	}
	reqs := llm.Requests()
	if last := reqs[len(reqs)-1]; !strings.Contains(fmt.Sprint(last.Messages), "status = 'shipped'") {
		t.Error("the follow-up did not send the earlier answer to the model")
	}

	// A refusal: every attempt writes, so no SQL, and the page says why.
	third := ask("Delete the refunded orders", 3)
	if got := text(t, ctx, third+" .refusal"); !strings.Contains(got, "No safe SQL") {
		t.Errorf("refusal says %q", got)
	}
	var attempts string
	run(t, ctx, "open the attempts", chromedp.Click(third+" details.attempts summary", chromedp.ByQuery))
	attempts = text(t, ctx, third+" details.attempts")
	if !strings.Contains(attempts, "NOT_READ_ONLY") || !strings.Contains(attempts, "Attempt 3") {
		t.Errorf("attempts shown: %q", attempts)
	}
	var sqlShown int
	run(t, ctx, "no SQL", chromedp.Evaluate(`document.querySelectorAll("#conversation li:nth-child(3) .answer").length`, &sqlShown))
	if sqlShown != 0 {
		t.Error("a refused question shows an answer")
	}
	screenshot(t, ctx, "page.png", false)
	screenshot(t, ctx, "page-dark.png", true)

	// The Validate tab: arrow key to it, paste SQL, Ctrl+Enter; each
	// violation points at its line and column, and picking it moves the
	// cursor there.
	run(t, ctx, "go to Validate",
		chromedp.Focus("#tab-ask", chromedp.ByID),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.WaitVisible("#sql", chromedp.ByID),
		chromedp.SetValue("#sql", "SELECT id\nFROM orders;\nDELETE FROM orders", chromedp.ByID),
		chromedp.Focus("#sql", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(input.ModifierCtrl)),
		chromedp.WaitVisible("#validation .violations", chromedp.ByQuery))
	if got := text(t, ctx, "#validation .violations"); !strings.Contains(got, "line 3, column 1") || !strings.Contains(got, "MULTIPLE_STATEMENTS") {
		t.Errorf("violations %q", got)
	}
	var caret int
	run(t, ctx, "go to the violation", chromedp.Click("#validation .goto", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("sql").selectionStart`, &caret))
	if caret != len("SELECT id\nFROM orders;\n") {
		t.Errorf("the cursor went to %d, want the start of line 3", caret)
	}
	run(t, ctx, "a valid statement",
		chromedp.SetValue("#sql", "SELECT id, status FROM orders", chromedp.ByID),
		chromedp.Click("#validate", chromedp.ByID),
		chromedp.WaitVisible("#validation .valid", chromedp.ByQuery))
	if got := text(t, ctx, "#validation .valid"); !strings.Contains(got, "public.orders") || !strings.Contains(got, "LIMIT") {
		t.Errorf("valid SQL shown as %q", got)
	}
}

// TestQuestionPageWithoutModel: no model anywhere; the page says how to
// configure one, and validating still works.
func TestQuestionPageWithoutModel(t *testing.T) {
	chromium(t)
	bin, err := serveproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin)
	ctx := browser(t)
	run(t, ctx, "load the page",
		chromedp.Navigate("http://"+p.HTTPAddr+"/"),
		chromedp.Evaluate(fmt.Sprintf(`sessionStorage.setItem("text2sql.token", %q)`, pageToken), nil),
		chromedp.Reload(),
		chromedp.WaitReady(`#database option[value="shop"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#model.none", chromedp.ByQuery))
	if got := text(t, ctx, "#model"); !strings.Contains(got, "OPENAI_API_KEY") || !strings.Contains(got, "Validate SQL tab works") {
		t.Errorf("the page says %q", got)
	}
	var disabled bool
	run(t, ctx, "ask button", chromedp.Evaluate(`document.getElementById("ask").disabled`, &disabled))
	if !disabled {
		t.Error("Ask is enabled with no model")
	}
	run(t, ctx, "validate",
		chromedp.Click("#tab-validate", chromedp.ByID),
		chromedp.SetValue("#sql", "SELECT email FROM customers", chromedp.ByID),
		chromedp.Click("#validate", chromedp.ByID),
		chromedp.WaitVisible("#validation .violations", chromedp.ByQuery))
	// The sample policy keeps personal data out of reach.
	if got := text(t, ctx, "#validation"); !strings.Contains(got, "COLUMN_NOT_ALLOWED") {
		t.Errorf("validation without a model: %q", got)
	}
}

type answer struct {
	SQL       string `json:"sql"`
	SqllabURL string `json:"sqllabUrl"`
}

func generate(t *testing.T, addr, question string) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"database": "shop", "question": question})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/sql:generate", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+pageToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var a answer
	if resp.StatusCode != 200 || json.Unmarshal(data, &a) != nil {
		t.Fatalf("generate: %d %s", resp.StatusCode, data)
	}
	return a
}

// screenshot writes the page to the test's temp dir, and with
// -update-docs the light one to docs/ for the README.
func screenshot(t *testing.T, ctx context.Context, name string, dark bool) {
	t.Helper()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	var png []byte
	run(t, ctx, "screenshot "+name,
		emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}),
		chromedp.FullScreenshot(&png, 100))
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
	if *updateDocs && !dark {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
