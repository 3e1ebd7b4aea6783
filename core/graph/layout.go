package graph

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"unicode/utf8"
)

// Sizes of the drawing, in SVG user units (pixels at 100%).
const (
	taskH       = 52.0
	commandH    = 26.0
	minTaskW    = 120.0
	maxTaskW    = 260.0
	commandW    = 72.0
	charW       = 7.2 // an average glyph of the 12-13px sans-serif the renderers use
	layerGap    = 56.0
	nodeGap     = 28.0
	margin      = 24.0
	orderSweeps = 8
)

// vnode is a node of the layered graph: a real node, or a dummy where a
// long edge crosses a layer.
type vnode struct {
	n     *Node // nil for a dummy
	layer int
	order int
	x, w  float64
	up    []*vnode // neighbours in the layer above
	down  []*vnode // neighbours in the layer below
}

// Layout places every node and routes every edge: cycles are broken by
// marking the edges that go back to a task already on the depth-first path
// (Back), layers come from the longest path, the order within a layer from
// repeated barycentre sweeps, and an edge spanning several layers becomes a
// polyline through one point per layer it crosses.
func Layout(g *Graph) {
	if len(g.Nodes) == 0 {
		g.Width, g.Height = 2*margin, 2*margin
		return
	}
	markBack(g)
	layers := assignLayers(g)
	vs, chains := layered(g, layers)
	rows := order(vs)
	place(g, rows)
	route(g, chains)
}

// markBack marks the edges that close cycles, found by a depth-first walk
// from the tasks with no inbound edge (in file order), then from any task
// not yet reached (a cycle with no entry).
func markBack(g *Graph) {
	out := map[string][]*Edge{}
	in := map[string]int{}
	for _, e := range g.Edges {
		e.Back = false
		if e.From == e.To {
			e.Back = true
			continue
		}
		out[e.From] = append(out[e.From], e)
		in[e.To]++
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		for _, e := range out[id] {
			switch state[e.To] {
			case onPath:
				e.Back = true
			case unseen:
				visit(e.To)
			}
		}
		state[id] = done
	}
	for _, n := range g.Nodes {
		if in[n.ID] == 0 && state[n.ID] == unseen {
			visit(n.ID)
		}
	}
	for _, n := range g.Nodes {
		if state[n.ID] == unseen {
			visit(n.ID)
		}
	}
}

// assignLayers gives each node the length of the longest forward path
// reaching it, so every forward edge points down at least one layer.
func assignLayers(g *Graph) map[string]int {
	indeg := map[string]int{}
	out := map[string][]string{}
	for _, e := range g.Edges {
		if e.Back {
			continue
		}
		out[e.From] = append(out[e.From], e.To)
		indeg[e.To]++
	}
	layer := map[string]int{}
	var queue []string
	for _, n := range g.Nodes {
		if indeg[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, to := range out[id] {
			layer[to] = max(layer[to], layer[id]+1)
			if indeg[to]--; indeg[to] == 0 {
				queue = append(queue, to)
			}
		}
	}
	// A command ends its branch: keep it just under its task rather than
	// at the bottom of a long graph.
	for _, n := range g.Nodes {
		if n.Kind == KindCommand {
			layer[n.ID] = layer[n.Task] + 1
		}
	}
	return layer
}

// chain is the vnodes an edge passes through, top to bottom.
type chain struct {
	e  *Edge
	vs []*vnode
}

func layered(g *Graph, layers map[string]int) ([]*vnode, []chain) {
	var vs []*vnode
	byID := map[string]*vnode{}
	for _, n := range g.Nodes {
		v := &vnode{n: n, layer: layers[n.ID], w: nodeWidth(n)}
		vs = append(vs, v)
		byID[n.ID] = v
	}
	var chains []chain
	for _, e := range g.Edges {
		top, bottom := byID[e.From], byID[e.To]
		if e.Back {
			top, bottom = bottom, top
		}
		c := chain{e: e, vs: []*vnode{top}}
		if top == bottom || top.layer == bottom.layer {
			c.vs = append(c.vs, bottom)
			chains = append(chains, c)
			continue
		}
		prev := top
		for l := top.layer + 1; l < bottom.layer; l++ {
			d := &vnode{layer: l}
			vs = append(vs, d)
			link(prev, d)
			c.vs = append(c.vs, d)
			prev = d
		}
		link(prev, bottom)
		c.vs = append(c.vs, bottom)
		chains = append(chains, c)
	}
	return vs, chains
}

func link(a, b *vnode) {
	a.down = append(a.down, b)
	b.up = append(b.up, a)
}

func nodeWidth(n *Node) float64 {
	if n.Kind == KindCommand {
		return commandW
	}
	chars := max(utf8.RuneCountInString(n.Name), utf8.RuneCountInString(n.Caption()))
	return math.Min(maxTaskW, math.Max(minTaskW, float64(chars)*charW+24))
}

// order sorts each layer by the barycentre of its neighbours, sweeping down
// then up a few times and keeping the order with the fewest crossings.
func order(vs []*vnode) [][]*vnode {
	depth := 0
	for _, v := range vs {
		depth = max(depth, v.layer+1)
	}
	rows := make([][]*vnode, depth)
	for _, v := range vs {
		v.order = len(rows[v.layer])
		rows[v.layer] = append(rows[v.layer], v)
	}
	best := snapshot(rows)
	bestX := crossings(rows)
	for i := 0; i < orderSweeps && bestX > 0; i++ {
		if i%2 == 0 {
			for l := 1; l < depth; l++ {
				sortByBarycentre(rows[l], func(v *vnode) []*vnode { return v.up })
			}
		} else {
			for l := depth - 2; l >= 0; l-- {
				sortByBarycentre(rows[l], func(v *vnode) []*vnode { return v.down })
			}
		}
		if x := crossings(rows); x < bestX {
			best, bestX = snapshot(rows), x
		}
	}
	for l := range best {
		for i, v := range best[l] {
			v.order = i
		}
	}
	return best
}

func snapshot(rows [][]*vnode) [][]*vnode {
	out := make([][]*vnode, len(rows))
	for i, r := range rows {
		out[i] = append([]*vnode(nil), r...)
	}
	return out
}

func sortByBarycentre(row []*vnode, adj func(*vnode) []*vnode) {
	type keyed struct {
		v     *vnode
		bc    float64
		order int
	}
	ks := make([]keyed, len(row))
	for i, v := range row {
		ks[i] = keyed{v: v, bc: float64(v.order), order: v.order} // no neighbours: stay put
		if ns := adj(v); len(ns) > 0 {
			s := 0.0
			for _, u := range ns {
				s += float64(u.order)
			}
			ks[i].bc = s / float64(len(ns))
		}
	}
	// Ties keep their current order, which makes the sort stable and the
	// layout deterministic.
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(a.bc, b.bc); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	for i, k := range ks {
		row[i] = k.v
		k.v.order = i
	}
}

// crossings counts pairs of edges between adjacent layers that cross: with
// the edges sorted by their upper end, the pairs whose lower ends are in
// the opposite order (counted with a Fenwick tree, so a wide layer costs
// n log n rather than n²).
func crossings(rows [][]*vnode) int {
	n := 0
	type seg struct{ a, b int }
	var segs []seg
	for l := 0; l+1 < len(rows); l++ {
		segs = segs[:0]
		for i, v := range rows[l] {
			for _, u := range v.down {
				if u.layer == l+1 {
					segs = append(segs, seg{i, u.order})
				}
			}
		}
		sort.Slice(segs, func(i, j int) bool {
			if segs[i].a != segs[j].a {
				return segs[i].a < segs[j].a
			}
			return segs[i].b < segs[j].b
		})
		tree := make([]int, len(rows[l+1])+1)
		for k, sg := range segs {
			// k edges seen so far; subtract those ending at or left of sg.b.
			le := 0
			for i := sg.b + 1; i > 0; i -= i & -i {
				le += tree[i]
			}
			n += k - le
			for i := sg.b + 1; i < len(tree); i += i & -i {
				tree[i]++
			}
		}
	}
	return n
}

// place gives x coordinates: each layer is first packed left to right, then
// nodes are pulled towards the mean x of their neighbours above (and, in a
// second pass, below) without overlapping or changing their order.
func place(g *Graph, rows [][]*vnode) {
	for _, r := range rows {
		x := 0.0
		for i, v := range r {
			if i > 0 {
				x += (r[i-1].w+v.w)/2 + nodeGap
			}
			v.x = x
		}
	}
	for pass := 0; pass < 4; pass++ {
		if pass%2 == 0 {
			for l := 1; l < len(rows); l++ {
				align(rows[l], func(v *vnode) []*vnode { return v.up })
			}
		} else {
			for l := len(rows) - 2; l >= 0; l-- {
				align(rows[l], func(v *vnode) []*vnode { return v.down })
			}
		}
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		for _, v := range r {
			minX = math.Min(minX, v.x-v.w/2)
			maxX = math.Max(maxX, v.x+v.w/2)
		}
	}
	shift := margin - minX
	for l, r := range rows {
		for _, v := range r {
			v.x = round(v.x + shift)
			if v.n != nil {
				v.n.Layer, v.n.Order = l, v.order
				v.n.X, v.n.Y, v.n.W = v.x, layerY(l), v.w
				v.n.H = taskH
				if v.n.Kind == KindCommand {
					v.n.H = commandH
				}
			}
		}
	}
	g.Width = round(maxX - minX + 2*margin + selfLoopRoom)
	g.Height = round(layerY(len(rows)-1) + taskH/2 + margin)
}

// selfLoopRoom leaves space on the right for a loop drawn beside a node.
const selfLoopRoom = 24.0

// backOffset moves an edge that closes a cycle sideways.
const backOffset = 10.0

func layerY(l int) float64 { return margin + taskH/2 + float64(l)*(taskH+layerGap) }

func align(row []*vnode, adj func(*vnode) []*vnode) {
	want := make([]float64, len(row))
	for i, v := range row {
		want[i] = v.x
		if ns := adj(v); len(ns) > 0 {
			s := 0.0
			for _, u := range ns {
				s += u.x
			}
			want[i] = s / float64(len(ns))
		}
	}
	// Left to right, nothing moves left of where the previous node allows;
	// then right to left, so the row does not drift only one way.
	for i, v := range row {
		x := want[i]
		if i > 0 {
			x = math.Max(x, row[i-1].x+(row[i-1].w+v.w)/2+nodeGap)
		}
		v.x = x
	}
	for i := len(row) - 2; i >= 0; i-- {
		v, next := row[i], row[i+1]
		limit := next.x - (v.w+next.w)/2 - nodeGap
		if v.x > limit {
			v.x = limit
		} else if want[i] > v.x {
			v.x = math.Min(want[i], limit)
		}
	}
}

// route sets each edge's points: from the bottom of the upper node through
// the dummies to the top of the lower one, reversed for back edges so the
// polyline always runs From to To.
func route(g *Graph, chains []chain) {
	for _, c := range chains {
		e := c.e
		if e.From == e.To {
			n := c.vs[0].n
			r, t, b := n.X+n.W/2, n.Y-n.H/4, n.Y+n.H/4
			e.Points = []Point{{r, t}, {r + selfLoopRoom, t}, {r + selfLoopRoom, b}, {r, b}}
			continue
		}
		var pts []Point
		for i, v := range c.vs {
			y := layerY(v.layer)
			switch {
			case v.n != nil && i == 0:
				y += v.n.H / 2
			case v.n != nil:
				y -= v.n.H / 2
			}
			pts = append(pts, Point{v.x, round(y)})
		}
		if e.Back {
			// Beside, not on top of, a forward edge between the same tasks.
			for i := range pts {
				pts[i].X += backOffset
			}
			for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
				pts[i], pts[j] = pts[j], pts[i]
			}
		}
		e.Points = pts
	}
}

func round(f float64) float64 { return math.Round(f*10) / 10 }
