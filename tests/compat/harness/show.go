package harness

import (
	"fmt"
	"sort"
	"strings"
)

// Show prints a decoded value deterministically (struct members sorted),
// in a Python-like notation that reads well in a diff.
func Show(v any) string {
	var b strings.Builder
	show(&b, v)
	return b.String()
}

func show(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case string:
		fmt.Fprintf(b, "%q", x)
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case []any:
		b.WriteString("[")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			show(b, e)
		}
		b.WriteString("]")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%q: ", k)
			show(b, x[k])
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// SortByName orders an array of result or info structs by (group, name),
// for group operations whose order is completion order in the original.
func SortByName(v any) any {
	s, ok := v.([]any)
	if !ok {
		return v
	}
	out := append([]any(nil), s...)
	key := func(e any) string { m := asMap(e); return fmt.Sprint(m["group"], ":", m["name"]) }
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// FirstDiff describes where two long renderings first differ, with some
// context, so that a one-field mismatch in a big struct array is readable.
func FirstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-120)
	end := func(s string) string { return s[from:min(len(s), i+120)] }
	return fmt.Sprintf("first difference at byte %d:\n  python: …%s…\n  ours:   …%s…", i, end(a), end(b))
}
