// Command go-oracle records what kuik's Go libraries answer for a corpus of inputs, so the
// TypeScript re-implementations can be tested against the real thing (shared/go-parity.test.ts).
// The library versions are kuik v2's (go.mod): distribution/reference v0.6.0, go-digest v1.0.0,
// k8s.io/apimachinery v0.35.4, Go's regexp and time.
//
// Regenerate (from the project root, Go 1.26 and the Go module proxy needed):
//
//	node shared/testdata/go-oracle/corpus.ts | (cd shared/testdata/go-oracle && go run .) > shared/testdata/go-oracle.json
//	npx biome format --write shared/testdata/go-oracle.json
package main

import (
	// kuik's binary links sha256/sha512 (TLS), which go-digest needs to accept those digests.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/labels"
)

type corpus struct {
	Refs            []string        `json:"refs"`
	Selectors       []string        `json:"selectors"`
	SelectorMatches []selectorMatch `json:"selectorMatches"`
	Durations       []string        `json:"durations"`
	Regexes         [][2]string     `json:"regexes"`
}

type selectorMatch struct {
	Selector string            `json:"selector"`
	Labels   map[string]string `json:"labels"`
}

// result is "ok <value>" or "err <message>".
func result(v string, err error) string {
	if err != nil {
		return "err " + err.Error()
	}
	return "ok " + v
}

func main() {
	var in corpus
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := map[string]any{}

	refs := [][2]string{}
	for _, r := range in.Refs {
		n, err := reference.ParseNormalizedNamed(r)
		s := ""
		if err == nil {
			s = n.String()
		}
		refs = append(refs, [2]string{r, result(s, err)})
	}
	out["refs"] = refs

	sels := [][2]string{}
	for _, s := range in.Selectors {
		sel, err := labels.Parse(s)
		v := ""
		if err == nil {
			v = sel.String()
		}
		sels = append(sels, [2]string{s, result(v, err)})
	}
	out["selectors"] = sels

	matches := []map[string]any{}
	for _, m := range in.SelectorMatches {
		sel, err := labels.Parse(m.Selector)
		if err != nil {
			panic(fmt.Sprintf("selectorMatches must parse: %q: %v", m.Selector, err))
		}
		matches = append(matches, map[string]any{"selector": m.Selector, "labels": m.Labels, "matches": sel.Matches(labels.Set(m.Labels))})
	}
	out["selectorMatches"] = matches

	durs := [][3]string{}
	for _, d := range in.Durations {
		v, err := time.ParseDuration(d)
		ns, str := "", ""
		if err == nil {
			ns, str = fmt.Sprint(int64(v)), v.String()
		}
		durs = append(durs, [3]string{d, result(ns, err), str})
	}
	out["durations"] = durs

	res := [][3]string{}
	for _, pr := range in.Regexes {
		// kuik's wrapper, verbatim (internal/filter/include_exclude.go).
		re, err := regexp.Compile("^(" + pr[0] + ")$")
		v := ""
		if err == nil {
			v = fmt.Sprint(re.MatchString(pr[1]))
		}
		res = append(res, [3]string{pr[0], pr[1], result(v, err)})
	}
	out["regexes"] = res

	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
