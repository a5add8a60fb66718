package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oyster-registry/oyster/auth"
)

const tokenUsage = `usage: registry token create --name NAME --scope NAMESPACE:ACTIONS [--scope …] [--expires 720h|2027-01-31|never]
       registry token list
       registry token revoke ID
(each also takes --config and --data, to find <data>/auth/robots.json)
`

// scopeFlags collects repeated --scope flags.
type scopeFlags []auth.NamespaceGrant

func (s *scopeFlags) String() string { return fmt.Sprint(*s) }
func (s *scopeFlags) Set(v string) error {
	g, err := auth.ParseGrant(v)
	if err == nil {
		*s = append(*s, g)
	}
	return err
}

// token manages robot tokens; the registry may be running meanwhile.
func token(args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return errors.New("token: missing subcommand")
	}
	var (
		name    string
		expires string
		scopes  scopeFlags
	)
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "robot name")
		fs.Var(&scopes, "scope", "NAMESPACE:ACTIONS, actions among pull,push,delete (repeatable)")
		fs.StringVar(&expires, "expires", "2160h", "lifetime (Go duration), expiry date (YYYY-MM-DD) or never")
	}
	sub, rest := args[0], args[1:]
	var positional []string
	if sub == "revoke" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		positional, rest = rest[:1], rest[1:]
	}
	cfg, err := loadConfig("token "+sub, rest, environ, stderr, flags)
	if err != nil {
		return err
	}
	robots := auth.OpenRobots(cfg.Data)
	now := time.Now()
	switch sub {
	case "create":
		until, err := parseExpiry(expires, now)
		if err != nil {
			return err
		}
		r, secret, err := robots.Create(name, scopes, until, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created robot token %s for %s (shown once; log in with username %s)\n", r.ID, r.Name, r.Name)
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		list, err := robots.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tOWNER\tSCOPES\tEXPIRES\tSTATE")
		for _, r := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, cmp.Or(r.Owner, "admin"), grantsString(r.Grants), expiryString(r.Expires), stateString(r, now))
		}
		return tw.Flush()
	case "revoke":
		if len(positional) != 1 {
			return errors.New("token revoke: give the token's ID (registry token list)")
		}
		return robots.Revoke(positional[0])
	default:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("token: unknown subcommand %q", sub)
	}
}

func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "never" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--expires %q is not a duration (720h), a date (2027-01-31) or never", s)
}

func grantsString(gs []auth.NamespaceGrant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.Namespace + ":" + strings.Join(g.Actions, ",")
	}
	return strings.Join(parts, " ")
}

func expiryString(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func stateString(r auth.Robot, now time.Time) string {
	switch {
	case r.Revoked:
		return "revoked"
	case !r.Expires.IsZero() && !now.Before(r.Expires):
		return "expired"
	}
	return "active"
}
