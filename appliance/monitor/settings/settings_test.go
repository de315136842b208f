package settings

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		in      string
		value   string
		matches bool
		wantErr bool
	}{
		{in: `severity="critical"`, value: "critical", matches: true},
		{in: `severity=critical`, value: "warning", matches: false},
		{in: `severity!=info`, value: "", matches: true},
		{in: `namespace=~"prod-.*"`, value: "prod-eu", matches: true},
		{in: `namespace=~prod`, value: "prod-eu", matches: false}, // anchored
		{in: `namespace!~"kube-.*"`, value: "kube-system", matches: false},
		{in: `x="a\"b"`, value: `a"b`, matches: true},
		{in: `=x`, wantErr: true},
		{in: `1abc=x`, wantErr: true},
		{in: `abc`, wantErr: true},
		{in: `a=~"("`, wantErr: true},
	}
	for _, tc := range tests {
		m, err := ParseMatcher(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseMatcher(%q) err = %v", tc.in, err)
			continue
		}
		if err == nil && m.Matches(tc.value) != tc.matches {
			t.Errorf("%q matches %q = %v, want %v", tc.in, tc.value, !tc.matches, tc.matches)
		}
		if err == nil {
			back, err := ParseMatcher(m.String())
			if err != nil || back.String() != m.String() {
				t.Errorf("round trip of %q via %q failed: %v", tc.in, m.String(), err)
			}
		}
	}
}

func TestAlertingValidate(t *testing.T) {
	hook := &Webhook{URL: "http://127.0.0.1:9/hook"}
	tests := []struct {
		name    string
		cfg     Alerting
		wantErr string
	}{
		{"empty is fine", Alerting{}, ""},
		{"webhook", Alerting{Receivers: []Receiver{{Name: "a", Webhook: hook}}}, ""},
		{"no integration", Alerting{Receivers: []Receiver{{Name: "a"}}}, "exactly one must be set"},
		{"two integrations", Alerting{Receivers: []Receiver{{Name: "a", Webhook: hook, WeCom: &Bot{URL: "https://qyapi.weixin.qq.com/x"}}}}, "exactly one"},
		{"duplicate names", Alerting{Receivers: []Receiver{{Name: "a", Webhook: hook}, {Name: "a", Webhook: hook}}}, "used twice"},
		{"bad name", Alerting{Receivers: []Receiver{{Name: "a b", Webhook: hook}}}, "receivers[0]: name"},
		{"bad url", Alerting{Receivers: []Receiver{{Name: "a", Webhook: &Webhook{URL: "localhost:9"}}}}, "webhook.url"},
		{"bad match", Alerting{Receivers: []Receiver{{Name: "a", Webhook: hook, Match: []string{"sev"}}}}, "match"},
		{"wecom with secret", Alerting{Receivers: []Receiver{{Name: "a", WeCom: &Bot{URL: "https://x/y", Secret: "s"}}}}, "wecom.secret"},
		{"bad email", Alerting{Receivers: []Receiver{{Name: "a", Email: &Email{To: []string{"nobody"}, From: "a@b.c", Smarthost: "smtp:25"}}}}, "email.to"},
		{"no port", Alerting{Receivers: []Receiver{{Name: "a", Email: &Email{To: []string{"x@y.z"}, From: "a@b.c", Smarthost: "smtp"}}}}, "email.smarthost"},
		{"bad group-by", Alerting{GroupBy: []string{"a-b"}}, "group-by"},
		{"negative", Alerting{GroupWait: -1}, "group-wait"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestSecretsNeverMarshal(t *testing.T) {
	r := Receiver{Name: "d", DingTalk: &Bot{URL: "https://oapi.dingtalk.com/robot/send?access_token=abc", Secret: "SECxyz"}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "abc") || strings.Contains(string(b), "SECxyz") {
		t.Fatalf("secrets leaked: %s", b)
	}
	var edited Receiver
	if err := json.Unmarshal(b, &edited); err != nil {
		t.Fatal(err)
	}
	if edited.DingTalk.URL != Redacted || edited.DingTalk.Secret != Redacted {
		t.Fatalf("want redacted values, got %+v", edited.DingTalk)
	}
	// A client that sends the redacted form back keeps the stored values.
	edited.KeepRedacted(&r)
	if edited.DingTalk.URL != r.DingTalk.URL || edited.DingTalk.Secret != r.DingTalk.Secret {
		t.Fatalf("KeepRedacted lost secrets: %+v", edited.DingTalk)
	}
}
