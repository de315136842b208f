package alerting

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// Alert statuses in notifications.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is what one group tells one receiver at one time.
type Notification struct {
	Receiver          string
	Status            string
	GroupKey          string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            []NotifiedAlert
}

// NotifiedAlert is an alert inside a notification.
type NotifiedAlert struct {
	Alert
	Status      string
	Fingerprint string
}

// Firing and Resolved split the notification's alerts by status.
func (n *Notification) Firing() []NotifiedAlert   { return n.byStatus(StatusFiring) }
func (n *Notification) Resolved() []NotifiedAlert { return n.byStatus(StatusResolved) }

func (n *Notification) byStatus(s string) []NotifiedAlert {
	var out []NotifiedAlert
	for _, a := range n.Alerts {
		if a.Status == s {
			out = append(out, a)
		}
	}
	return out
}

// Notifier delivers a notification to one receiver.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) error
}

// NewNotifier builds the notifier for a validated receiver config. client
// is used for HTTP integrations; receivers that skip TLS verification get a
// copy of it with verification off.
func NewNotifier(rc settings.Receiver, client *http.Client) (Notifier, error) {
	switch {
	case rc.Webhook != nil:
		c := client
		if rc.Webhook.InsecureSkipVerify {
			c = insecureClient(client)
		}
		return &webhookNotifier{cfg: *rc.Webhook, client: c}, nil
	case rc.WeCom != nil:
		return &botNotifier{kind: botWeCom, cfg: *rc.WeCom, client: client}, nil
	case rc.DingTalk != nil:
		return &botNotifier{kind: botDingTalk, cfg: *rc.DingTalk, client: client}, nil
	case rc.Feishu != nil:
		return &botNotifier{kind: botFeishu, cfg: *rc.Feishu, client: client}, nil
	case rc.Email != nil:
		return &emailNotifier{cfg: *rc.Email}, nil
	}
	return nil, fmt.Errorf("receiver %s has no integration", rc.Name)
}

func insecureClient(c *http.Client) *http.Client {
	cc := *c
	cc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the user asked for it
	return &cc
}

// webhookPayload is Alertmanager's webhook body, version 4.
type webhookPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []webhookAlert    `json:"alerts"`
}

type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type webhookNotifier struct {
	cfg    settings.Webhook
	client *http.Client
}

func (w *webhookNotifier) Notify(ctx context.Context, n *Notification) error {
	p := webhookPayload{
		Version: "4", GroupKey: n.GroupKey, Status: n.Status, Receiver: n.Receiver,
		GroupLabels: nonNil(n.GroupLabels), CommonLabels: nonNil(n.CommonLabels),
		CommonAnnotations: nonNil(n.CommonAnnotations), ExternalURL: n.ExternalURL,
	}
	alerts := n.Alerts
	if w.cfg.MaxAlerts > 0 && len(alerts) > w.cfg.MaxAlerts {
		p.TruncatedAlerts = len(alerts) - w.cfg.MaxAlerts
		alerts = alerts[:w.cfg.MaxAlerts]
	}
	for _, a := range alerts {
		p.Alerts = append(p.Alerts, webhookAlert{Status: a.Status, Labels: nonNil(a.Labels), Annotations: nonNil(a.Annotations),
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint})
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding webhook payload: %w", err)
	}
	headers := map[string]string{}
	if w.cfg.BearerToken != "" {
		headers["Authorization"] = "Bearer " + w.cfg.BearerToken.Reveal()
	}
	_, err = postJSON(ctx, w.client, w.cfg.URL.Reveal(), body, headers)
	return err
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// postJSON posts body and returns the response body; a non-2xx status is an
// error quoting the start of the response. The URL is never put into errors
// because bot URLs carry their token.
func postJSON(ctx context.Context, client *http.Client, url string, body []byte, headers map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "outpost-monitor")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting notification: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return respBody, fmt.Errorf("receiver answered %s: %.200s", resp.Status, respBody)
	}
	return respBody, nil
}

// redactURLError strips the URL (which may carry a token) out of a
// *url.Error, keeping the operation and the cause.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
