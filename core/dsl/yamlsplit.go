package dsl

import (
	"bytes"
	"runtime"
	"sync"

	"gopkg.in/yaml.v3"
)

// parseYAML parses src into a yaml.Node tree. Large definitions spend most of
// their load time in yaml.v3, which is sequential, so when src has the
// simple shape of a big generated workflow its largest "tasks:" mapping is
// parsed in chunks on several cores and spliced back. The result is the very
// tree yaml.Unmarshal builds; whenever that cannot be guaranteed, and on any
// error, the whole document is parsed sequentially, so error messages are
// always yaml.v3's own.
func parseYAML(src []byte) (*yaml.Node, error) {
	// More chunks than cores only add goroutines and copies.
	if root := parseSplit(src, min(runtime.GOMAXPROCS(0), 8)); root != nil {
		return root, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, err
	}
	return &root, nil
}

// splitMinBody is the smallest tasks body worth splitting: below it the
// goroutines and the extra scan cost more than they save. Tests lower it to
// exercise the split path on small documents.
var splitMinBody = 64 << 10

const (
	// splitMaxLine bounds line length so that yaml.v3's nesting limit
	// (10,000 block levels, which needs that many distinct columns) cannot
	// be reached differently in a chunk and in the whole document.
	splitMaxLine = 4096
)

// parseSplit parses src with the tasks body split into at most n chunks, or
// returns nil when it may not or could not.
//
// Why this is the same as parsing src whole: YAML's block structure is
// decided by indentation, so a run of lines all indented deeper than a
// "tasks:" key, starting at a key of its mapping, scans to the same tokens
// whether it follows the rest of the document or stands alone; the only
// constructs that carry state across lines regardless of indentation
// (quoted scalars and flow collections) make a chunk that ends inside them
// fail to parse, and then the whole document is parsed sequentially.
// Prepending blank lines keeps every line and column; what remains of the
// document around the body is parsed with the body blanked out, and must
// show the "tasks" key, in a block mapping, at the expected place with an
// empty value. Comments, anchors, aliases, tags directives, several
// documents, tabs and carriage returns are refused outright.
func parseSplit(src []byte, n int) *yaml.Node {
	if n < 2 || len(src) < splitMinBody || !splitSafeText(src) {
		return nil
	}
	b, ok := findTasksBody(src)
	if !ok || lineMarkers(src[:b.start]) || lineMarkers(src[b.end:]) {
		return nil
	}
	chunks := b.chunks(n)
	if len(chunks) < 2 {
		return nil
	}

	// The document around the body, with the body's lines left empty.
	skel := make([]byte, 0, b.start+b.lines+len(src)-b.end)
	skel = append(skel, src[:b.start]...)
	skel = append(skel, bytes.Repeat([]byte{'\n'}, b.lines)...)
	skel = append(skel, src[b.end:]...)

	roots := make([]yaml.Node, len(chunks)+1)
	errs := make([]error, len(chunks)+1)
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := make([]byte, 0, c.line-1+c.end-c.start)
			text = append(text, bytes.Repeat([]byte{'\n'}, c.line-1)...)
			text = append(text, src[c.start:c.end]...)
			errs[i] = yaml.Unmarshal(text, &roots[i])
		}()
	}
	errs[len(chunks)] = yaml.Unmarshal(skel, &roots[len(chunks)])
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil
		}
	}

	root := &roots[len(chunks)]
	parent, at := findKey(root, b.keyLine, b.keyIndent+1, 0)
	if parent == nil {
		return nil
	}
	if v := parent.Content[at+1]; v.Kind != yaml.ScalarNode || v.Tag != "!!null" || v.Value != "" || v.Style != 0 || v.Anchor != "" {
		return nil
	}
	var tasks *yaml.Node
	for i := range chunks {
		d := &roots[i]
		if d.Kind != yaml.DocumentNode || len(d.Content) != 1 {
			return nil
		}
		m := d.Content[0]
		if m.Kind != yaml.MappingNode || m.Style != 0 || m.Tag != "!!map" || m.Anchor != "" {
			return nil
		}
		if tasks == nil {
			tasks = m
			continue
		}
		tasks.Content = append(tasks.Content, m.Content...)
	}
	parent.Content[at+1] = tasks
	return root
}

// splitSafeText refuses, cheaply and conservatively, every feature whose
// meaning can reach across lines: comments (attached to neighbouring nodes),
// anchors and aliases, merge keys, explicit "?" keys (whose missing value is
// placed at the next token, possibly in the next chunk), tabs, carriage
// returns and byte order marks. Directives and document markers, which can
// only stand outside the tasks body, are refused by lineMarkers.
//
// Each test looks for a rare byte with IndexByte, which is much faster than
// bytes.Index for patterns that start with a space or a newline.
func splitSafeText(src []byte) bool {
	if src[0] >= 0x80 || src[len(src)-1] == '?' {
		return false
	}
	for _, c := range []byte("&*\t\r\x00") {
		if bytes.IndexByte(src, c) >= 0 {
			return false
		}
	}
	// '#' starts a comment at the start of a line or after a space.
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '#')
		if j < 0 {
			break
		}
		at := i + j
		if at == 0 || src[at-1] == ' ' || src[at-1] == '\n' {
			return false
		}
		i = at + 1
	}
	// '?' then a space or a line end is an explicit key.
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '?')
		if j < 0 {
			break
		}
		at := i + j
		if at+1 == len(src) || src[at+1] == ' ' || src[at+1] == '\n' {
			return false
		}
		i = at + 1
	}
	return !bytes.Contains(src, []byte("<<"))
}

// lineMarkers reports whether a line of text starts with a directive or a
// document marker, which would make several documents or change tags.
func lineMarkers(text []byte) bool {
	for off := 0; off < len(text); {
		eol := lineEnd(text, off)
		l := text[off:eol]
		if len(l) > 0 && (l[0] == '%' || bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("..."))) {
			return true
		}
		off = eol
	}
	return false
}

// tasksBody is the run of lines under a "tasks:" key.
type tasksBody struct {
	keyLine, keyIndent int // the "tasks:" line (1-based) and its indentation
	start, end         int // byte range of the body lines
	firstLine          int // 1-based line of the body's first line
	lines              int // number of lines in the body
	indent             int // indentation of the tasks' names
	splits             []bodyLine
}

// bodyLine is a line of the body where a task entry may start.
type bodyLine struct {
	off, line int
}

// findTasksBody finds the largest body of a line reading exactly "tasks:"
// whose lines are all indented deeper than it, starting with a plain key.
// Lines before it need no length check: the block levels open at a key
// indented n columns are at most n+1, so they cannot bring yaml.v3's nesting
// limit closer than a chunk sees it.
func findTasksBody(src []byte) (tasksBody, bool) {
	var best tasksBody
	found := false
	line, counted := 1, 0 // line is the 1-based line of byte counted
	// Nested "tasks:" lines would each rescan the lines below them; bounding
	// the bytes scanned keeps a crafted document from making this quadratic.
	budget := 2 * len(src)
	for from := 0; ; {
		i := bytes.Index(src[from:], []byte("tasks:"))
		if i < 0 {
			break
		}
		at := from + i
		from = at + len("tasks:")
		start := bytes.LastIndexByte(src[:at], '\n') + 1
		ind, _ := indentOf(src[start:at])
		if start+ind != at {
			continue // not at the start of the line's content
		}
		eol := lineEnd(src, at)
		if len(bytes.TrimRight(src[from:eol], " \n")) != 0 {
			continue
		}
		line += bytes.Count(src[counted:start], []byte("\n"))
		counted = start
		b, ok, scanned := scanBody(src, eol, line, ind)
		if budget -= scanned; budget < 0 {
			return tasksBody{}, false
		}
		if ok && (!found || b.end-b.start > best.end-best.start) {
			best, found = b, true
		}
	}
	if !found || best.end-best.start < splitMinBody {
		return tasksBody{}, false
	}
	return best, true
}

// scanBody reads the lines after a "tasks:" line ending at byte eol. It
// also returns how many bytes it looked at.
func scanBody(src []byte, eol, keyLine, keyIndent int) (_ tasksBody, _ bool, scanned int) {
	b := tasksBody{keyLine: keyLine, keyIndent: keyIndent, start: eol, end: eol, firstLine: keyLine + 1, indent: -1}
	line := keyLine
	for off := eol; off < len(src); {
		line++
		next := lineEnd(src, off)
		scanned = next - eol
		if next-off > splitMaxLine {
			return tasksBody{}, false, scanned
		}
		ind, text := indentOf(src[off:next])
		blank := len(text) == 0 || text[0] == '\n' // only spaces: tabs and CRs are refused
		if !blank {
			if ind <= keyIndent {
				break
			}
			if b.indent < 0 {
				if !isPlainKeyLine(text) {
					return tasksBody{}, false, scanned
				}
				b.indent = ind
			}
			if ind < b.indent {
				return tasksBody{}, false, scanned
			}
			if ind == b.indent && isPlainKeyLine(text) {
				b.splits = append(b.splits, bodyLine{off: off, line: line})
			}
		}
		b.lines++
		b.end = next
		off = next
	}
	return b, b.indent >= 0, scanned
}

// chunks cuts the body at task entries into at most n runs of similar size.
func (b tasksBody) chunks(n int) []chunk {
	target := (b.end - b.start) / n
	var out []chunk
	cur := chunk{start: b.start, line: b.firstLine}
	for _, s := range b.splits[1:] {
		if s.off-cur.start >= target && len(out) < n-1 {
			cur.end = s.off
			out = append(out, cur)
			cur = chunk{start: s.off, line: s.line}
		}
	}
	cur.end = b.end
	return append(out, cur)
}

// chunk is a byte range of the body and the line it starts on.
type chunk struct {
	start, end, line int
}

func lineEnd(src []byte, off int) int {
	if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(src)
}

func indentOf(l []byte) (int, []byte) {
	i := 0
	for i < len(l) && l[i] == ' ' {
		i++
	}
	return i, l[i:]
}

// isPlainKeyLine reports whether a line (without its indentation) starts a
// mapping entry with a plain key: a name, a colon, then a space or the end.
func isPlainKeyLine(text []byte) bool {
	i := 0
	for i < len(text) && (isWord(text[i]) || (i > 0 && (text[i] == '-' || text[i] == '.'))) {
		i++
	}
	if i == 0 || i >= len(text) || text[i] != ':' {
		return false
	}
	return i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n'
}

// findKey finds the block mapping holding a plain key "tasks" at line and
// column, and the key's index in it.
func findKey(n *yaml.Node, line, column, depth int) (*yaml.Node, int) {
	if n == nil || depth > 10_000 {
		return nil, 0
	}
	if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Line == line && k.Column == column && k.Kind == yaml.ScalarNode && k.Value == "tasks" && k.Style == 0 && k.Tag == "!!str" {
				return n, i
			}
		}
	}
	for _, c := range n.Content {
		if k, i := findKey(c, line, column, depth+1); k != nil {
			return k, i
		}
	}
	return nil, 0
}
