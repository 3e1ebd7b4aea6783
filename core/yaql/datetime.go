package yaql

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

// YAQL's datetime and timespan family, without its clocks (now(),
// localNow() and utcNow() are refused: expressions must be deterministic).
// A datetime is Python's aware datetime: an instant with a fixed UTC offset;
// a timespan is Python's timedelta, held in microseconds. Neither has a JSON
// form: a datetime leaves an expression as the text Mistral stores
// (oslo's to_primitive: "2006-01-02T15:04:05.000000", the local wall time
// without offset) and a timespan cannot leave it, as Mistral cannot store one.

var dateTimeFuncs = []fn{
	{names: []string{"datetime"}, form: function, kw: true, call: bDatetime},
	{names: []string{"timespan"}, form: function, kw: true, call: bTimespan},
	{names: []string{"isDatetime"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(dateTime); return ok })},
	{names: []string{"isTimespan"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(timeSpan); return ok })},
	{names: []string{"utctz"}, form: function, arity: exactly(0), call: func(c *callCtx) (any, error) { c.ev.internal = true; return timeSpan{}, nil }},
	{names: []string{"format"}, form: method, recv: kAny, arity: exactly(1), params: []param{val(kString)}, call: bFormatDatetime},
}

type dateTime struct{ t time.Time }

type timeSpan struct{ us int64 }

const (
	usPerSecond = int64(1_000_000)
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour
	// maxSpanUs keeps every timespan within what a datetime can add
	// (Python's years 1 to 9999) and every sum of two within int64.
	maxSpanUs = 3_700_000 * usPerDay
)

func newSpan(us int64) (timeSpan, error) {
	if us > maxSpanUs || us < -maxSpanUs {
		return timeSpan{}, failf("timespan out of range")
	}
	return timeSpan{us}, nil
}

func spanOfFloat(us float64) (timeSpan, error) {
	if math.IsNaN(us) || us > float64(maxSpanUs) || us < -float64(maxSpanUs) {
		return timeSpan{}, failf("timespan out of range")
	}
	// Python's timedelta rounds a fraction of a microsecond half to even.
	return timeSpan{int64(math.RoundToEven(us))}, nil
}

func newDateTime(t time.Time) (dateTime, error) {
	if y := t.Year(); y < 1 || y > 9999 {
		return dateTime{}, failf("year %d is out of range", y)
	}
	return dateTime{t}, nil
}

func zoneOf(offset timeSpan) *time.Location {
	if offset.us == 0 {
		return time.UTC
	}
	return time.FixedZone("", int(offset.us/usPerSecond))
}

// options binds YAQL's parameters by position or by name, as YAQL does: a
// name given twice, or given that is not a parameter, is an error.
func (c *callCtx) options(names []string) ([]any, error) {
	out := make([]any, len(names))
	if len(c.args) > len(names) {
		return nil, failf("%s() takes at most %d arguments, got %d", c.name, len(names), len(c.args))
	}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
kws:
	for _, kw := range c.kw {
		for i, n := range names {
			if kw.name == n {
				if i < len(c.args) {
					return nil, failf("%s() got %s twice", c.name, n)
				}
				v, err := kw.val(c.ev, c.sc)
				if err != nil {
					return nil, err
				}
				out[i] = plain(v)
				continue kws
			}
		}
		return nil, failf("%s() has no parameter %q", c.name, kw.name)
	}
	return out, nil
}

func optIntOf(name string, v any, def int64) (int64, error) {
	if v == nil {
		return def, nil
	}
	if _, ok := v.(int64); !ok {
		return 0, failf("%s() expects an integer, not a %s", name, value.TypeName(v))
	}
	return v.(int64), nil
}

func optSpan(name string, v any) (timeSpan, error) {
	if v == nil {
		return timeSpan{}, nil
	}
	ts, ok := v.(timeSpan)
	if !ok {
		return timeSpan{}, failf("%s() expects a timespan offset, not a %s", name, value.TypeName(v))
	}
	return ts, nil
}

var datetimeParams = []string{"year", "month", "day", "hour", "minute", "second", "microsecond", "offset"}

// bDatetime is datetime(year, month, day[, hour, minute, second,
// microsecond], offset => timespan), datetime(timestamp, offset => ...) or
// datetime(string[, format]).
func bDatetime(c *callCtx) (any, error) {
	c.ev.internal = true
	if len(c.args) > 0 {
		first, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		switch x := first.(type) {
		case string:
			return datetimeOfString(c, x)
		case float64:
			return datetimeOfTimestamp(c, x)
		case int64:
			if len(c.args) == 1 && !c.hasKw("month") {
				return datetimeOfTimestamp(c, float64(x))
			}
		}
	}
	vals, err := c.options(datetimeParams)
	if err != nil {
		return nil, err
	}
	var parts [7]int64
	for i := range parts {
		def := int64(0)
		if i < 3 {
			if vals[i] == nil {
				return nil, failf("datetime() is missing its %s", datetimeParams[i])
			}
		}
		if parts[i], err = optIntOf("datetime", vals[i], def); err != nil {
			return nil, err
		}
	}
	offset, err := optSpan("datetime", vals[7])
	if err != nil {
		return nil, err
	}
	return buildDatetime(parts, offset)
}

func (c *callCtx) hasKw(name string) bool {
	for _, kw := range c.kw {
		if kw.name == name {
			return true
		}
	}
	return false
}

// buildDatetime checks the fields as Python's datetime() does instead of
// letting time.Date normalise 2015-02-30 into March.
func buildDatetime(p [7]int64, offset timeSpan) (any, error) {
	year, month, day, hour, minute, sec, us := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	switch {
	case year < 1 || year > 9999:
		return nil, failf("datetime(): year %d is out of range", year)
	case month < 1 || month > 12:
		return nil, failf("datetime(): month must be in 1..12")
	case day < 1 || day > int64(daysIn(time.Month(month), int(year))):
		return nil, failf("datetime(): day is out of range for month")
	case hour < 0 || hour > 23:
		return nil, failf("datetime(): hour must be in 0..23")
	case minute < 0 || minute > 59:
		return nil, failf("datetime(): minute must be in 0..59")
	case sec < 0 || sec > 59:
		return nil, failf("datetime(): second must be in 0..59")
	case us < 0 || us > 999999:
		return nil, failf("datetime(): microsecond must be in 0..999999")
	case offset.us <= -usPerDay || offset.us >= usPerDay:
		return nil, failf("datetime(): offset must be strictly between -24 and 24 hours")
	}
	t := time.Date(int(year), time.Month(month), int(day), int(hour), int(minute), int(sec), int(us)*1000, zoneOf(offset))
	return dateTime{t}, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func datetimeOfTimestamp(c *callCtx, ts float64) (any, error) {
	vals, err := c.options([]string{"timestamp", "offset"})
	if err != nil {
		return nil, err
	}
	offset, err := optSpan("datetime", vals[1])
	if err != nil {
		return nil, err
	}
	if math.IsNaN(ts) || math.Abs(ts) > 1e12 {
		return nil, failf("datetime(): timestamp %v is out of range", ts)
	}
	sec := math.Floor(ts)
	us := math.RoundToEven((ts - sec) * 1e6)
	t := time.Unix(int64(sec), int64(us)*1000).In(zoneOf(offset))
	dt, err := newDateTime(t)
	if err != nil {
		return nil, err
	}
	return dt, nil
}

// datetimeOfString parses with a strptime format, or, without one, the ISO
// 8601 forms (dateutil's parser, which YAQL uses, reads many more).
func datetimeOfString(c *callCtx, s string) (any, error) {
	vals, err := c.options([]string{"string", "format"})
	if err != nil {
		return nil, err
	}
	var t time.Time
	if f, _ := vals[1].(string); f != "" {
		t, err = strptime(s, f)
	} else if vals[1] != nil && vals[1] != "" {
		return nil, failf("datetime() expects a string format, not a %s", value.TypeName(vals[1]))
	} else {
		t, err = parseISO(s)
	}
	if err != nil {
		return nil, err
	}
	return newDateTime(t)
}

var isoLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"20060102T150405Z07:00",
	"20060102T150405",
	"20060102",
}

func parseISO(s string) (time.Time, error) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, failf("datetime(): cannot parse %q: give a format, e.g. datetime(%q, \"%%Y-%%m-%%d\")", s, s)
}

// strptime is Python's datetime.strptime for the common directives.
func strptime(s, f string) (time.Time, error) {
	p := strptimeState{s: s, year: 1900, month: 1, day: 1, loc: time.UTC}
	bad := failf("datetime(): %q does not match format %q", s, f)
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			if len(p.s) == 0 || p.s[0] != f[i] {
				return time.Time{}, bad
			}
			p.s = p.s[1:]
			continue
		}
		i++
		ok, err := p.directive(f[i])
		if err != nil {
			return time.Time{}, err
		}
		if !ok {
			return time.Time{}, bad
		}
	}
	if p.s != "" {
		return time.Time{}, failf("datetime(): unconverted data remains: %s", p.s)
	}
	if p.ampm {
		if p.hour < 1 || p.hour > 12 {
			return time.Time{}, bad
		}
		p.hour %= 12
		if p.pm {
			p.hour += 12
		}
	}
	if p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysIn(time.Month(p.month), p.year) || p.hour > 23 || p.minute > 59 || p.sec > 61 {
		return time.Time{}, bad
	}
	return time.Date(p.year, time.Month(p.month), p.day, p.hour, p.minute, p.sec, p.us*1000, p.loc), nil
}

// strptimeState is the text left to parse and the fields read so far.
type strptimeState struct {
	s                                       string
	year, month, day, hour, minute, sec, us int
	pm, ampm                                bool
	loc                                     *time.Location
}

// num reads up to max digits.
func (p *strptimeState) num(max int) (int, bool) {
	n, i := 0, 0
	for i < max && i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
		n = n*10 + int(p.s[i]-'0')
		i++
	}
	p.s = p.s[i:]
	return n, i > 0
}

// prefix consumes text matched case-insensitively.
func (p *strptimeState) prefix(text string) bool {
	if len(p.s) >= len(text) && strings.EqualFold(p.s[:len(text)], text) {
		p.s = p.s[len(text):]
		return true
	}
	return false
}

// directive reads one %-directive; false when the text does not match.
func (p *strptimeState) directive(d byte) (ok bool, err error) {
	switch d {
	case 'Y':
		p.year, ok = p.num(4)
	case 'y':
		p.year, ok = p.num(2)
		if p.year < 69 {
			p.year += 2000
		} else {
			p.year += 1900
		}
	case 'm':
		p.month, ok = p.num(2)
	case 'd':
		p.day, ok = p.num(2)
	case 'H':
		p.hour, ok = p.num(2)
	case 'I':
		p.hour, ok = p.num(2)
		p.ampm = true
	case 'M':
		p.minute, ok = p.num(2)
	case 'S':
		p.sec, ok = p.num(2)
	case 'f':
		before := len(p.s)
		p.us, ok = p.num(6)
		for n := before - len(p.s); n < 6; n++ {
			p.us *= 10
		}
	case 'p':
		ok = p.prefix("AM")
		if !ok && p.prefix("PM") {
			ok, p.pm = true, true
		}
	case 'b', 'B':
		for m := time.January; m <= time.December && !ok; m++ {
			name := m.String()
			if d == 'b' {
				name = name[:3]
			}
			if p.prefix(name) {
				p.month, ok = int(m), true
			}
		}
	case 'z':
		p.loc, ok = parseOffset(&p.s)
	case '%':
		ok = p.prefix("%")
	default:
		return false, failf("datetime(): format directive %%%c is not supported", d)
	}
	return ok, nil
}

func parseOffset(s *string) (*time.Location, bool) {
	x := *s
	if strings.HasPrefix(x, "Z") {
		*s = x[1:]
		return time.UTC, true
	}
	if len(x) < 5 || (x[0] != '+' && x[0] != '-') {
		return nil, false
	}
	rest := strings.Replace(x[1:], ":", "", 1)
	if len(rest) < 4 {
		return nil, false
	}
	h, err1 := strconv.Atoi(rest[:2])
	m, err2 := strconv.Atoi(rest[2:4])
	if err1 != nil || err2 != nil {
		return nil, false
	}
	secs := h*3600 + m*60
	if x[0] == '-' {
		secs = -secs
	}
	consumed := 5
	if x[3] == ':' {
		consumed = 6
	}
	*s = x[consumed:]
	return time.FixedZone("", secs), true
}

var timespanParams = []string{"days", "hours", "minutes", "seconds", "milliseconds", "microseconds"}

var timespanUnits = []int64{usPerDay, usPerHour, usPerMinute, usPerSecond, 1000, 1}

// bTimespan is timespan(days, hours, minutes, seconds, milliseconds,
// microseconds), each an integer, by position or name.
func bTimespan(c *callCtx) (any, error) {
	c.ev.internal = true
	vals, err := c.options(timespanParams)
	if err != nil {
		return nil, err
	}
	var us int64
	for i, v := range vals {
		n, err := optIntOf("timespan", v, 0)
		if err != nil {
			return nil, err
		}
		// Each part within range keeps the products and the sum in int64.
		if math.Abs(float64(n)*float64(timespanUnits[i])) > float64(maxSpanUs) {
			return nil, failf("timespan out of range")
		}
		us += n * timespanUnits[i]
	}
	return newSpan(us)
}

func bFormatDatetime(c *callCtx) (any, error) {
	dt, ok := c.recv.(dateTime)
	if !ok {
		return nil, failf("format() expects a datetime, not a %s", value.TypeName(c.recv))
	}
	f := c.paramString(0)
	if err := c.ev.checkStr(len(f)*8, "format()"); err != nil {
		return nil, err
	}
	return strftime(dt.t, f)
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// strftime is Python's for the common directives.
func strftime(t time.Time, f string) (string, error) {
	var b strings.Builder
	pad := func(n, w int) {
		s := strconv.Itoa(n)
		for i := len(s); i < w; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			pad(t.Year(), 4)
		case 'y':
			pad(t.Year()%100, 2)
		case 'm':
			pad(int(t.Month()), 2)
		case 'd':
			pad(t.Day(), 2)
		case 'H':
			pad(t.Hour(), 2)
		case 'I':
			pad((t.Hour()+11)%12+1, 2)
		case 'M':
			pad(t.Minute(), 2)
		case 'S':
			pad(t.Second(), 2)
		case 'f':
			pad(t.Nanosecond()/1000, 6)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(weekdays[(int(t.Weekday())+6)%7][:3])
		case 'A':
			b.WriteString(weekdays[(int(t.Weekday())+6)%7])
		case 'j':
			pad(t.YearDay(), 3)
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'z':
			b.WriteString(offsetText(t, ""))
		case '%':
			b.WriteByte('%')
		default:
			return "", failf("format(): directive %%%c is not supported", f[i])
		}
	}
	return b.String(), nil
}

// offsetText is Python's +HHMM (sep "") or +HH:MM (sep ":").
func offsetText(t time.Time, sep string) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := sign + twoDigits(off/3600) + sep + twoDigits(off%3600/60)
	if off%60 != 0 {
		s += sep + twoDigits(off%60)
	}
	return s
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// replaceDatetime is datetime.replace(year => ..., ..., offset => ...).
func replaceDatetime(c *callCtx, dt dateTime) (any, error) {
	vals, err := c.options(datetimeParams)
	if err != nil {
		return nil, err
	}
	t := dt.t
	_, off := t.Zone()
	parts := [7]int64{int64(t.Year()), int64(t.Month()), int64(t.Day()), int64(t.Hour()), int64(t.Minute()), int64(t.Second()), int64(t.Nanosecond() / 1000)}
	for i := range parts {
		if parts[i], err = optIntOf("replace", vals[i], parts[i]); err != nil {
			return nil, err
		}
	}
	offset := timeSpan{int64(off) * usPerSecond}
	if vals[7] != nil {
		if offset, err = optSpan("replace", vals[7]); err != nil {
			return nil, err
		}
	}
	return buildDatetime(parts, offset)
}

// dateProperty is dt.year, dt.month, ... and ts.days, ts.hours, ...
func timeProperty(v any, name string) (any, bool, error) {
	switch x := v.(type) {
	case dateTime:
		t := x.t
		switch name {
		case "year":
			return int64(t.Year()), true, nil
		case "month":
			return int64(t.Month()), true, nil
		case "day":
			return int64(t.Day()), true, nil
		case "hour":
			return int64(t.Hour()), true, nil
		case "minute":
			return int64(t.Minute()), true, nil
		case "second":
			return int64(t.Second()), true, nil
		case "microsecond":
			return int64(t.Nanosecond() / 1000), true, nil
		case "weekday":
			return int64((int(t.Weekday()) + 6) % 7), true, nil
		case "date":
			return dateTime{time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())}, true, nil
		case "time":
			d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
			return timeSpan{t.Sub(d).Microseconds()}, true, nil
		case "utc":
			dt, err := newDateTime(t.UTC())
			return dt, true, err
		case "offset":
			_, off := t.Zone()
			return timeSpan{int64(off) * usPerSecond}, true, nil
		case "timestamp":
			return float64(t.Unix()) + float64(t.Nanosecond()/1000)/1e6, true, nil
		}
	case timeSpan:
		switch name {
		case "microseconds":
			return x.us, true, nil
		case "milliseconds":
			return float64(x.us) / 1e3, true, nil
		case "seconds":
			return float64(x.us) / 1e6, true, nil
		case "minutes":
			return float64(x.us) / 6e7, true, nil
		case "hours":
			return float64(x.us) / 3.6e9, true, nil
		case "days":
			return float64(x.us) / 8.64e10, true, nil
		}
	default:
		return nil, false, nil
	}
	return nil, true, failf("a %s has no property %q", value.TypeName(v), name)
}

// timeOp is +, - , * and / when either side is a datetime or a timespan;
// handled is false when neither is.
func timeOp(op byte, a, b any) (r any, handled bool, err error) {
	da, aDT := a.(dateTime)
	db, bDT := b.(dateTime)
	sa, aTS := a.(timeSpan)
	sb, bTS := b.(timeSpan)
	if !aDT && !bDT && !aTS && !bTS {
		return nil, false, nil
	}
	switch {
	case op == '+' && aDT && bTS:
		r, err = addSpan(da, sb.us)
	case op == '+' && aTS && bDT:
		r, err = addSpan(db, sa.us)
	case op == '-' && aDT && bTS:
		r, err = addSpan(da, -sb.us)
	case op == '-' && aDT && bDT:
		r, err = newSpan(da.t.UnixMicro() - db.t.UnixMicro())
	case op == '+' && aTS && bTS:
		r, err = newSpan(sa.us + sb.us)
	case op == '-' && aTS && bTS:
		r, err = newSpan(sa.us - sb.us)
	case op == '/' && aTS && bTS:
		if sb.us == 0 {
			return nil, true, failf("division by zero")
		}
		r = float64(sa.us) / float64(sb.us)
	case op == '*' && aTS:
		r, err = scaleSpan(sa, b, false)
	case op == '*' && bTS:
		r, err = scaleSpan(sb, a, false)
	case op == '/' && aTS:
		r, err = scaleSpan(sa, b, true)
	default:
		return nil, true, failf("cannot apply %c to %s and %s", op, value.TypeName(a), value.TypeName(b))
	}
	return r, true, err
}

// addSpan adds whole days by the calendar, since a time.Duration holds
// only 292 years and a timespan may cross all of Python's 9,999.
func addSpan(d dateTime, us int64) (any, error) {
	days, rest := us/usPerDay, us%usPerDay
	return newDateTime(d.t.AddDate(0, 0, int(days)).Add(time.Duration(rest) * time.Microsecond))
}

func scaleSpan(ts timeSpan, n any, divide bool) (any, error) {
	var f float64
	switch x := n.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return nil, failf("cannot scale a timespan by a %s", value.TypeName(n))
	}
	if divide {
		if f == 0 {
			return nil, failf("division by zero")
		}
		return spanOfFloat(float64(ts.us) / f)
	}
	return spanOfFloat(float64(ts.us) * f)
}

// compareTime orders two datetimes or two timespans.
func compareTime(a, b any) (int, bool) {
	switch x := a.(type) {
	case dateTime:
		if y, ok := b.(dateTime); ok {
			return x.t.Compare(y.t), true
		}
	case timeSpan:
		if y, ok := b.(timeSpan); ok {
			return cmp.Compare(x.us, y.us), true
		}
	}
	return 0, false
}

// pyString is Python's str() of a datetime ("2006-01-02 15:04:05+00:00",
// microseconds only when there are some) or a timespan ("1 day, 2:03:00").
func (d dateTime) pyString() string {
	s := strftimeMust(d.t, "%Y-%m-%d %H:%M:%S")
	if us := d.t.Nanosecond() / 1000; us != 0 {
		s += "." + strftimeMust(d.t, "%f")
	}
	return s + offsetText(d.t, ":")
}

func strftimeMust(t time.Time, f string) string {
	s, _ := strftime(t, f)
	return s
}

func (s timeSpan) pyString() string {
	days := s.us / usPerDay
	rest := s.us % usPerDay
	if rest < 0 {
		days--
		rest += usPerDay
	}
	secs := rest / usPerSecond
	out := strconv.FormatInt(secs/3600, 10) + ":" + twoDigits(int(secs%3600/60)) + ":" + twoDigits(int(secs%60))
	if us := rest % usPerSecond; us != 0 {
		frac := strconv.FormatInt(us, 10)
		out += "." + strings.Repeat("0", 6-len(frac)) + frac
	}
	if days != 0 {
		unit := " days, "
		if days == 1 || days == -1 {
			unit = " day, "
		}
		out = strconv.FormatInt(days, 10) + unit + out
	}
	return out
}

// export is what a datetime becomes when it leaves an expression.
func (d dateTime) export() string {
	return strftimeMust(d.t, "%Y-%m-%dT%H:%M:%S.%f")
}
