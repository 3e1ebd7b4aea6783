package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// helpError is `lazyflow CMD --help`: the command's usage and options go to
// stdout and the exit status is 0, since asking for help is not a mistake.
type helpError struct{ fs *flag.FlagSet }

func (helpError) Error() string { return "help requested" }

// parseInterspersed parses flags that may come before or after positional
// arguments. Its errors are a helpError for -h/--help, otherwise a
// usageError that names the command and the option as the user typed it.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(fs, err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagError rewords the flag package's errors, which name an option with
// one dash ("flag provided but not defined: -frob") where the usage and
// README write two.
func flagError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return helpError{fs}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = fmt.Sprintf("%s: unknown option --%s", fs.Name(), strings.TrimLeft(name, "-"))
	} else if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		msg = fmt.Sprintf("%s: option --%s needs a value", fs.Name(), strings.TrimLeft(rest, "-"))
	} else if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		msg = fmt.Sprintf("%s: invalid value %s", fs.Name(), strings.Replace(rest, " for flag -", " for option --", 1))
	}
	return usageError{msg}
}

// commandUsage is the usage line of one command, or the whole usage when
// cmd is not a command.
func commandUsage(cmd string) string {
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "lazyflow "+cmd+" ") {
			return "usage:\n" + line + "\n"
		}
	}
	return usage
}

// printHelp prints a command's usage line and its options with their
// defaults, written with two dashes as the README writes them.
func printHelp(w io.Writer, cmd string, fs *flag.FlagSet) {
	fmt.Fprint(w, commandUsage(cmd))
	if fs == nil {
		return
	}
	fmt.Fprintln(w, "options:")
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if kind != "" {
			head += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%-24s %s\n", head, text)
	})
}
