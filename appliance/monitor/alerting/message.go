package alerting

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// subject is a one-line summary such as
// "[FIRING:2] KubePodCrashLooping (namespace=shop)".
func subject(n *Notification) string {
	var b strings.Builder
	if f := len(n.Firing()); f > 0 {
		fmt.Fprintf(&b, "[FIRING:%d]", f)
	} else {
		fmt.Fprintf(&b, "[RESOLVED:%d]", len(n.Alerts))
	}
	if name := n.GroupLabels["alertname"]; name != "" {
		b.WriteString(" " + name)
	} else if name := n.CommonLabels["alertname"]; name != "" {
		b.WriteString(" " + name)
	}
	var rest []string
	for _, k := range slices.Sorted(maps.Keys(n.GroupLabels)) {
		if k != "alertname" {
			rest = append(rest, k+"="+n.GroupLabels[k])
		}
	}
	if len(rest) > 0 {
		b.WriteString(" (" + strings.Join(rest, ", ") + ")")
	}
	return b.String()
}

// renderMarkdown writes the notification for WeCom and DingTalk bots.
func renderMarkdown(n *Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", subject(n))
	for _, sec := range []struct {
		title  string
		alerts []NotifiedAlert
	}{{"Firing", n.Firing()}, {"Resolved", n.Resolved()}} {
		if len(sec.alerts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**\n", sec.title)
		for _, a := range sec.alerts {
			fmt.Fprintf(&b, "- **%s** %s\n", a.Name(), describe(&a))
			fmt.Fprintf(&b, "  > %s\n", labelString(a.Labels))
		}
	}
	if n.ExternalURL != "" {
		fmt.Fprintf(&b, "\n[Open in Outpost](%s)\n", n.ExternalURL)
	}
	return b.String()
}

// renderText writes the notification as plain text for Feishu and email.
func renderText(n *Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", subject(n))
	for _, sec := range []struct {
		title  string
		alerts []NotifiedAlert
	}{{"Firing", n.Firing()}, {"Resolved", n.Resolved()}} {
		if len(sec.alerts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", sec.title)
		for _, a := range sec.alerts {
			fmt.Fprintf(&b, "- %s: %s\n  labels: %s\n", a.Name(), describe(&a), labelString(a.Labels))
		}
	}
	if n.ExternalURL != "" {
		fmt.Fprintf(&b, "\n%s\n", n.ExternalURL)
	}
	return b.String()
}

func describe(a *NotifiedAlert) string {
	text := a.Annotations["summary"]
	if d := a.Annotations["description"]; d != "" {
		if text != "" {
			text += " — "
		}
		text += d
	}
	when := "since " + a.StartsAt.UTC().Format(time.RFC3339)
	if a.Status == StatusResolved {
		when = "resolved " + a.EndsAt.UTC().Format(time.RFC3339)
	}
	if text == "" {
		return "(" + when + ")"
	}
	return text + " (" + when + ")"
}

func labelString(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if k != "alertname" {
			parts = append(parts, k+"="+labels[k])
		}
	}
	return strings.Join(parts, ", ")
}

// truncateUTF8 cuts s to at most max bytes on a rune boundary, saying so.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const note = "\n… (truncated)"
	cut := max - len(note)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}
