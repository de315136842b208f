package settings

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
)

// Defaults of the alert grouping timers; they match Alertmanager's.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// Alerting says how firing alerts are grouped into notifications and where
// the notifications go. It is the `alerting:` section of Outpost's config;
// receivers added through the API are kept apart from these and merged.
type Alerting struct {
	// GroupBy lists the labels whose values put alerts into the same
	// notification. Default: [alertname, namespace].
	GroupBy []string `json:"group-by,omitempty" yaml:"group-by,omitempty"`
	// GroupWait is how long a new group waits for more alerts before its
	// first notification. Default 30s.
	GroupWait model.Duration `json:"group-wait,omitempty" yaml:"group-wait,omitempty"`
	// GroupInterval is the least time between two notifications of a group
	// whose alerts changed. Default 5m.
	GroupInterval model.Duration `json:"group-interval,omitempty" yaml:"group-interval,omitempty"`
	// RepeatInterval is how often a group that still fires, unchanged, is
	// notified again. Default 4h.
	RepeatInterval model.Duration `json:"repeat-interval,omitempty" yaml:"repeat-interval,omitempty"`
	// Receivers are the notification targets.
	Receivers []Receiver `json:"receivers,omitempty" yaml:"receivers,omitempty"`
}

// Receiver is one notification target. Exactly one of Webhook, WeCom,
// DingTalk, Feishu and Email is set.
type Receiver struct {
	// Name identifies the receiver in the API and in notifications.
	Name string `json:"name" yaml:"name"`
	// Match restricts the receiver to alerts matching all these label
	// matchers, e.g. ["severity=critical", "namespace=~prod-.*"]. Empty
	// means every alert.
	Match []string `json:"match,omitempty" yaml:"match,omitempty"`
	// SendResolved sends a notice when alerts stop firing. Default true.
	SendResolved *bool `json:"send-resolved,omitempty" yaml:"send-resolved,omitempty"`

	Webhook  *Webhook `json:"webhook,omitempty" yaml:"webhook,omitempty"`
	WeCom    *Bot     `json:"wecom,omitempty" yaml:"wecom,omitempty"`
	DingTalk *Bot     `json:"dingtalk,omitempty" yaml:"dingtalk,omitempty"`
	Feishu   *Bot     `json:"feishu,omitempty" yaml:"feishu,omitempty"`
	Email    *Email   `json:"email,omitempty" yaml:"email,omitempty"`
}

// Webhook posts the Alertmanager webhook payload (version 4) as JSON.
type Webhook struct {
	// URL receives the POST.
	URL Secret `json:"url" yaml:"url"`
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken Secret `json:"bearer-token,omitempty" yaml:"bearer-token,omitempty"`
	// MaxAlerts caps the alerts in one payload; 0 means all. The rest are
	// counted in truncatedAlerts.
	MaxAlerts int `json:"max-alerts,omitempty" yaml:"max-alerts,omitempty"`
	// InsecureSkipVerify turns off TLS verification of the receiver.
	InsecureSkipVerify bool `json:"insecure-skip-verify,omitempty" yaml:"insecure-skip-verify,omitempty"`
}

// Bot is a WeCom (企业微信), DingTalk (钉钉) or Feishu/Lark (飞书) group bot.
type Bot struct {
	// URL is the bot's webhook address including its access token.
	URL Secret `json:"url" yaml:"url"`
	// Secret signs each request (DingTalk "加签", Feishu "签名校验").
	// WeCom bots have no signing.
	Secret Secret `json:"secret,omitempty" yaml:"secret,omitempty"`
}

// Email sends notifications through an SMTP server.
type Email struct {
	// To lists the recipients.
	To []string `json:"to" yaml:"to"`
	// From is the sender address.
	From string `json:"from" yaml:"from"`
	// Smarthost is the SMTP server as host:port. Port 465 speaks TLS from
	// the start; other ports upgrade with STARTTLS when the server offers it.
	Smarthost string `json:"smarthost" yaml:"smarthost"`
	// Username and Password authenticate with PLAIN auth when set.
	Username string `json:"username,omitempty" yaml:"username,omitempty"`
	Password Secret `json:"password,omitempty" yaml:"password,omitempty"`
	// RequireTLS refuses to send over a connection that is not encrypted.
	RequireTLS bool `json:"require-tls,omitempty" yaml:"require-tls,omitempty"`
	// InsecureSkipVerify turns off TLS verification of the server.
	InsecureSkipVerify bool `json:"insecure-skip-verify,omitempty" yaml:"insecure-skip-verify,omitempty"`
}

// Kind names the receiver's integration: webhook, wecom, dingtalk, feishu
// or email; "" when none is set.
func (r *Receiver) Kind() string {
	switch {
	case r.Webhook != nil:
		return "webhook"
	case r.WeCom != nil:
		return "wecom"
	case r.DingTalk != nil:
		return "dingtalk"
	case r.Feishu != nil:
		return "feishu"
	case r.Email != nil:
		return "email"
	}
	return ""
}

// ResolvedNotices reports whether resolve notices are sent (default true).
func (r *Receiver) ResolvedNotices() bool { return r.SendResolved == nil || *r.SendResolved }

// WithDefaults returns a copy with the timers and GroupBy filled in.
func (a Alerting) WithDefaults() Alerting {
	if len(a.GroupBy) == 0 {
		a.GroupBy = []string{"alertname", "namespace"}
	}
	if a.GroupWait == 0 {
		a.GroupWait = model.Duration(DefaultGroupWait)
	}
	if a.GroupInterval == 0 {
		a.GroupInterval = model.Duration(DefaultGroupInterval)
	}
	if a.RepeatInterval == 0 {
		a.RepeatInterval = model.Duration(DefaultRepeatInterval)
	}
	return a
}

var receiverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// Validate checks every field; each error names its key below `alerting`.
func (a *Alerting) Validate() error {
	var errs []error
	for _, l := range a.GroupBy {
		if !validLabelName(l) {
			errs = append(errs, fmt.Errorf("alerting.group-by: %q is not a valid label name", l))
		}
	}
	for key, d := range map[string]model.Duration{"group-wait": a.GroupWait, "group-interval": a.GroupInterval, "repeat-interval": a.RepeatInterval} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("alerting.%s: must not be negative, got %s", key, d))
		}
	}
	seen := map[string]bool{}
	for i := range a.Receivers {
		r := &a.Receivers[i]
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("alerting.receivers[%d]: %w", i, err))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("alerting.receivers[%d]: name %q is used twice", i, r.Name))
		}
		seen[r.Name] = true
	}
	return errors.Join(errs...)
}

// Validate checks one receiver; errors name the key below the receiver.
func (r *Receiver) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, a...)...))
	}
	if !receiverName.MatchString(r.Name) {
		bad("name", "must be 1-63 letters, digits, '-', '_' or '.', got %q", r.Name)
	}
	if _, err := ParseMatchers(r.Match); err != nil {
		bad("match", "%v", err)
	}
	n := 0
	for _, set := range []bool{r.Webhook != nil, r.WeCom != nil, r.DingTalk != nil, r.Feishu != nil, r.Email != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		bad("webhook|wecom|dingtalk|feishu|email", "exactly one must be set, got %d", n)
	}
	switch {
	case r.Webhook != nil:
		if err := checkHTTPURL(r.Webhook.URL.Reveal()); err != nil {
			bad("webhook.url", "%v", err)
		}
		if r.Webhook.MaxAlerts < 0 {
			bad("webhook.max-alerts", "must not be negative")
		}
	case r.WeCom != nil, r.DingTalk != nil, r.Feishu != nil:
		b := r.Bot()
		if err := checkHTTPURL(b.URL.Reveal()); err != nil {
			bad(r.Kind()+".url", "%v", err)
		}
		if r.WeCom != nil && r.WeCom.Secret != "" {
			bad("wecom.secret", "WeCom group bots do not sign requests; leave it empty")
		}
	case r.Email != nil:
		e := r.Email
		if len(e.To) == 0 {
			bad("email.to", "needs at least one address")
		}
		for _, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				bad("email.to", "%q is not an email address", to)
			}
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			bad("email.from", "%q is not an email address", e.From)
		}
		if u, err := url.Parse("smtp://" + e.Smarthost); err != nil || u.Hostname() == "" || u.Port() == "" {
			bad("email.smarthost", "must be host:port such as smtp.example.com:587, got %q", e.Smarthost)
		}
	}
	return errors.Join(errs...)
}

// Bot returns the bot config of a wecom, dingtalk or feishu receiver.
func (r *Receiver) Bot() *Bot {
	switch {
	case r.WeCom != nil:
		return r.WeCom
	case r.DingTalk != nil:
		return r.DingTalk
	case r.Feishu != nil:
		return r.Feishu
	}
	return nil
}

// KeepRedacted replaces every secret of r that a client sent back as
// Redacted with the value from previous, so that an edit of a receiver
// read through the API does not wipe its tokens.
func (r *Receiver) KeepRedacted(previous *Receiver) {
	if previous == nil {
		return
	}
	if r.Webhook != nil && previous.Webhook != nil {
		r.Webhook.URL = keepIfRedacted(r.Webhook.URL, previous.Webhook.URL)
		r.Webhook.BearerToken = keepIfRedacted(r.Webhook.BearerToken, previous.Webhook.BearerToken)
	}
	if b, pb := r.Bot(), previous.Bot(); b != nil && pb != nil && r.Kind() == previous.Kind() {
		b.URL = keepIfRedacted(b.URL, pb.URL)
		b.Secret = keepIfRedacted(b.Secret, pb.Secret)
	}
	if r.Email != nil && previous.Email != nil {
		r.Email.Password = keepIfRedacted(r.Email.Password, previous.Email.Password)
	}
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http:// or https:// URL")
	}
	return nil
}
