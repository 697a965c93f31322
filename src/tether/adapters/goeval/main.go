// tether-goeval evaluates Argo CD's expressions (expr-lang/expr) and Go templates (html/template
// or text/template with Sprig) for tether, one JSON request per stdin line, one JSON answer per
// stdout line. It is long-lived: compiled programs and templates are cached by their text.
// It reads nothing but stdin: no files, no environment, no network (Sprig's env, expandenv and
// getHostByName are removed, as Argo CD removes them).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// cacheSize bounds each compile cache: a configuration holds tens of triggers and templates.
const cacheSize = 512

// maxLine bounds one request line (an Application with a large status is some hundred KiB).
const maxLine = 64 << 20

// removedFuncs are Sprig functions that would reach outside the process.
var removedFuncs = []string{"env", "expandenv", "getHostByName"}

type request struct {
	Op      string         `json:"op"`
	Program string         `json:"program"`
	Env     map[string]any `json:"env"`
	Mode    string         `json:"mode"`
	Text    string         `json:"text"`
	Data    map[string]any `json:"data"`
	Options []string       `json:"options"`
}

type executor interface {
	Execute(w io.Writer, data any) error
}

type worker struct {
	programs  map[string]*vm.Program
	templates map[string]executor
}

func main() {
	w := &worker{programs: map[string]*vm.Program{}, templates: map[string]executor{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), maxLine)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		_ = enc.Encode(w.answer(in.Bytes()))
		_ = out.Flush()
	}
}

func (w *worker) answer(line []byte) (reply map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			reply = map[string]any{"error": fmt.Sprintf("panic: %v", r)}
		}
	}()
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return map[string]any{"error": "bad request: " + err.Error()}
	}
	var value any
	var err error
	switch req.Op {
	case "expr":
		value, err = w.expr(req.Program, req.Env)
	case "template":
		value, err = w.template(req.Mode, req.Text, req.Data, req.Options)
	case "ping":
		value = "pong"
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"value": value}
}

func (w *worker) expr(program string, env map[string]any) (any, error) {
	compiled, ok := w.programs[program]
	if !ok {
		var err error
		compiled, err = expr.Compile(program)
		if err != nil {
			return nil, err
		}
		remember(w.programs, program, compiled)
	}
	full := helpers()
	for k, v := range env {
		full[k] = v
	}
	value, err := expr.Run(compiled, full)
	if err != nil {
		return nil, err
	}
	return jsonable(value), nil
}

func (w *worker) template(mode, text string, data map[string]any, options []string) (string, error) {
	key := mode + "\x00" + strings.Join(options, ",") + "\x00" + text
	tmpl, ok := w.templates[key]
	if !ok {
		var err error
		tmpl, err = parse(mode, text, options)
		if err != nil {
			return "", err
		}
		remember(w.templates, key, tmpl)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func parse(mode, text string, options []string) (executor, error) {
	switch mode {
	case "html":
		funcs := sprig.FuncMap()
		for _, name := range removedFuncs {
			delete(funcs, name)
		}
		return htmltemplate.New("t").Option(options...).Funcs(funcs).Parse(text)
	case "text":
		funcs := sprig.TxtFuncMap()
		for _, name := range removedFuncs {
			delete(funcs, name)
		}
		return texttemplate.New("t").Option(options...).Funcs(funcs).Parse(text)
	}
	return nil, fmt.Errorf("unknown template mode %q (html or text)", mode)
}

// helpers are the functions Argo CD's trigger conditions call, under the same names.
func helpers() map[string]any {
	return map[string]any{
		"time": map[string]any{
			"Now":         func() time.Time { return time.Now() },
			"Parse":       parseTime,
			"Nanosecond":  time.Nanosecond,
			"Microsecond": time.Microsecond,
			"Millisecond": time.Millisecond,
			"Second":      time.Second,
			"Minute":      time.Minute,
			"Hour":        time.Hour,
		},
		"strings": map[string]any{
			"ReplaceAll": strings.ReplaceAll,
			"ToUpper":    strings.ToUpper,
			"ToLower":    strings.ToLower,
		},
	}
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// jsonable turns values JSON cannot carry as such (times, durations) into strings.
func jsonable(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	}
	return v
}

func remember[T any](cache map[string]T, key string, value T) {
	if len(cache) >= cacheSize {
		for k := range cache {
			delete(cache, k)
			break
		}
	}
	cache[key] = value
}
