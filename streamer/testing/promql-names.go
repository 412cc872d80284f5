// promql-names reads PromQL expressions, one JSON string per line on stdin, parses each with
// Prometheus' own parser (the one promtool uses) and prints one JSON object per line:
// {"expr": ..., "names": [metric names the expression selects]} or {"expr": ..., "error": ...}.
// The chart's tests use it to check that every expression of the alerts and the dashboard names
// only metrics streamer exports. Built by streamer/testing/_tools.py into the tools cache.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type answer struct {
	Expr  string   `json:"expr"`
	Names []string `json:"names"`
	Error string   `json:"error,omitempty"`
}

func main() {
	p := parser.NewParser(parser.Options{})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var expr string
		if err := json.Unmarshal(in.Bytes(), &expr); err != nil {
			fmt.Fprintf(os.Stderr, "promql-names: a line is not a JSON string: %v\n", err)
			os.Exit(2)
		}
		a := answer{Expr: expr, Names: []string{}}
		node, err := p.ParseExpr(expr)
		if err != nil {
			a.Error = err.Error()
		} else {
			seen := map[string]bool{}
			parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					name := vs.Name
					for _, m := range vs.LabelMatchers {
						if name == "" && m.Name == labels.MetricName && m.Type == labels.MatchEqual {
							name = m.Value
						}
					}
					if name == "" {
						name = "{" + vs.String() + "}" // a selector by labels only: reported as is
					}
					seen[name] = true
				}
				return nil
			})
			for name := range seen {
				a.Names = append(a.Names, name)
			}
			sort.Strings(a.Names)
		}
		if err := out.Encode(a); err != nil {
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "promql-names: %v\n", err)
		os.Exit(2)
	}
}
