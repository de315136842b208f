package alerting

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

func sampleNotification() *Notification {
	now := time.Now()
	return &Notification{
		Receiver: "ops", Status: StatusFiring, GroupKey: `{alertname="KubePodCrashLooping"}`,
		GroupLabels:  map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop"},
		CommonLabels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop"},
		ExternalURL:  "https://outpost.local/monitoring",
		Alerts: []NotifiedAlert{
			{Alert: Alert{Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "web-1"},
				Annotations: map[string]string{"summary": "Pod shop/web-1 is crash looping"}, StartsAt: now}, Status: StatusFiring},
			{Alert: Alert{Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "web-2"},
				Annotations: map[string]string{"summary": "Pod shop/web-2 is crash looping"}, StartsAt: now.Add(-time.Hour), EndsAt: now}, Status: StatusResolved},
		},
	}
}

// botServer is a local stand-in for a bot API: it checks what the real API
// checks (signature, message shape) and answers like the real API does.
func botServer(t *testing.T, check func(r *http.Request, body map[string]any) string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("bot got invalid JSON: %s", raw)
		}
		io.WriteString(w, check(r, body))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestBots(t *testing.T) {
	const secret = "SEC000test"
	ok := `{"errcode":0,"errmsg":"ok"}`
	tests := []struct {
		name    string
		rc      func(url string) settings.Receiver
		check   func(r *http.Request, body map[string]any) string
		wantErr string
	}{
		{
			name: "wecom markdown",
			rc: func(u string) settings.Receiver {
				return settings.Receiver{Name: "w", WeCom: &settings.Bot{URL: settings.Secret(u)}}
			},
			check: func(r *http.Request, body map[string]any) string {
				md, _ := body["markdown"].(map[string]any)
				content, _ := md["content"].(string)
				if body["msgtype"] != "markdown" || !strings.Contains(content, "[FIRING:1] KubePodCrashLooping") ||
					!strings.Contains(content, "web-1") || !strings.Contains(content, "Resolved") {
					return `{"errcode":40008,"errmsg":"invalid message type"}`
				}
				return ok
			},
		},
		{
			name: "wecom refusal is an error",
			rc: func(u string) settings.Receiver {
				return settings.Receiver{Name: "w", WeCom: &settings.Bot{URL: settings.Secret(u)}}
			},
			check: func(*http.Request, map[string]any) string {
				return `{"errcode":93000,"errmsg":"invalid webhook url"}`
			},
			wantErr: "errcode 93000",
		},
		{
			name: "dingtalk signed",
			rc: func(u string) settings.Receiver {
				return settings.Receiver{Name: "d", DingTalk: &settings.Bot{URL: settings.Secret(u + "/robot/send?access_token=abc"), Secret: secret}}
			},
			check: func(r *http.Request, body map[string]any) string {
				q := r.URL.Query()
				mac := hmac.New(sha256.New, []byte(secret))
				mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
				if q.Get("access_token") != "abc" || q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
					return `{"errcode":310000,"errmsg":"sign not match"}`
				}
				md, _ := body["markdown"].(map[string]any)
				if body["msgtype"] != "markdown" || !strings.HasPrefix(md["title"].(string), "[FIRING:1]") {
					return `{"errcode":40035,"errmsg":"missing title"}`
				}
				return ok
			},
		},
		{
			name: "feishu signed",
			rc: func(u string) settings.Receiver {
				return settings.Receiver{Name: "f", Feishu: &settings.Bot{URL: settings.Secret(u), Secret: secret}}
			},
			check: func(r *http.Request, body map[string]any) string {
				ts, _ := body["timestamp"].(string)
				mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
				content, _ := body["content"].(map[string]any)
				text, _ := content["text"].(string)
				if body["sign"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
					return `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`
				}
				if body["msg_type"] != "text" || !strings.Contains(text, "web-2") {
					return `{"code":9499,"msg":"Bad Request"}`
				}
				return `{"code":0,"msg":"success","data":{}}`
			},
		},
		{
			name: "feishu wrong secret",
			rc: func(u string) settings.Receiver {
				return settings.Receiver{Name: "f", Feishu: &settings.Bot{URL: settings.Secret(u), Secret: "other"}}
			},
			check: func(r *http.Request, body map[string]any) string {
				ts, _ := body["timestamp"].(string)
				mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
				if body["sign"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
					return `{"code":19021,"msg":"sign match fail"}`
				}
				return `{"code":0}`
			},
			wantErr: "code 19021",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := botServer(t, tc.check)
			rc := tc.rc(srv.URL)
			if err := rc.Validate(); err != nil {
				t.Fatal(err)
			}
			n, err := NewNotifier(rc, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sampleNotification())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Notify: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Notify error = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "access_token") {
				t.Fatalf("error leaks the bot URL: %v", err)
			}
		})
	}
}

func TestWebhookTruncatesAndAuthenticates(t *testing.T) {
	got := make(chan webhookPayload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var p webhookPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer srv.Close()
	for _, tc := range []struct {
		token   settings.Secret
		wantErr bool
	}{{"wrong", true}, {"t0ken", false}} {
		n, _ := NewNotifier(settings.Receiver{Name: "h", Webhook: &settings.Webhook{URL: settings.Secret(srv.URL), BearerToken: tc.token, MaxAlerts: 1}}, srv.Client())
		err := n.Notify(context.Background(), sampleNotification())
		if (err != nil) != tc.wantErr {
			t.Fatalf("token %q: err = %v", tc.token, err)
		}
	}
	p := <-got
	if len(p.Alerts) != 1 || p.TruncatedAlerts != 1 {
		t.Fatalf("want 1 alert and truncatedAlerts 1, got %d and %d", len(p.Alerts), p.TruncatedAlerts)
	}
}

// smtpServer is a minimal local SMTP server that records one message.
func smtpServer(t *testing.T) (addr string, messages chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	messages = make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
		reply := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		reply("220 test ESMTP")
		var data strings.Builder
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					messages <- data.String()
					reply("250 queued")
					continue
				}
				data.WriteString(line)
				continue
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"):
				reply("250-test")
				reply("250 8BITMIME")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				reply("250 ok")
			case cmd == "DATA":
				inData = true
				reply("354 go ahead")
			case cmd == "QUIT":
				reply("221 bye")
				return
			default:
				reply("502 not implemented")
			}
		}
	}()
	return ln.Addr().String(), messages
}

func TestEmail(t *testing.T) {
	addr, messages := smtpServer(t)
	rc := settings.Receiver{Name: "mail", Email: &settings.Email{To: []string{"ops@example.com"}, From: "outpost@example.com", Smarthost: addr}}
	if err := rc.Validate(); err != nil {
		t.Fatal(err)
	}
	n, _ := NewNotifier(rc, http.DefaultClient)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Notify(ctx, sampleNotification()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	msg := <-messages
	for _, want := range []string{"To: ops@example.com", "Subject: [FIRING:1] KubePodCrashLooping (namespace=shop)", "Pod shop/web-1 is crash looping", "Resolved:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}

	// A server without TLS is refused when TLS is required.
	addr2, _ := smtpServer(t)
	rc.Email.Smarthost, rc.Email.RequireTLS = addr2, true
	n, _ = NewNotifier(rc, http.DefaultClient)
	if err := n.Notify(ctx, sampleNotification()); err == nil || !strings.Contains(err.Error(), "no TLS") {
		t.Fatalf("want a no-TLS error, got %v", err)
	}
}

func TestTruncateUTF8(t *testing.T) {
	s := strings.Repeat("告警", 100)
	out := truncateUTF8(s, 50)
	if len(out) > 50 || !strings.HasSuffix(out, "(truncated)") {
		t.Fatalf("truncateUTF8 = %q (%d bytes)", out, len(out))
	}
	if truncateUTF8("short", 50) != "short" {
		t.Fatal("short strings must be unchanged")
	}
}
