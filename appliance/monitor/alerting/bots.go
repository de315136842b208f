package alerting

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

type botKind int

const (
	botWeCom botKind = iota
	botDingTalk
	botFeishu
)

// Message size limits of the bot APIs, in bytes, with margin.
const (
	weComMaxBytes    = 4000  // markdown content: 4096
	dingTalkMaxBytes = 19000 // markdown text: 20000
	feishuMaxBytes   = 29000 // text message body: 30 KiB
)

type botNotifier struct {
	kind   botKind
	cfg    settings.Bot
	client *http.Client
}

func (b *botNotifier) Notify(ctx context.Context, n *Notification) error {
	target := b.cfg.URL.Reveal()
	var payload any
	now := time.Now()
	switch b.kind {
	case botWeCom:
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"content": truncateUTF8(renderMarkdown(n), weComMaxBytes)}}
	case botDingTalk:
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"title": subject(n), "text": truncateUTF8(renderMarkdown(n), dingTalkMaxBytes)}}
		if b.cfg.Secret != "" {
			target = dingTalkSign(target, b.cfg.Secret.Reveal(), now)
		}
	case botFeishu:
		p := map[string]any{"msg_type": "text", "content": map[string]string{
			"text": truncateUTF8(renderText(n), feishuMaxBytes)}}
		if b.cfg.Secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			p["timestamp"], p["sign"] = ts, feishuSign(b.cfg.Secret.Reveal(), ts)
		}
		payload = p
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding bot message: %w", err)
	}
	resp, err := postJSON(ctx, b.client, target, body, nil)
	if err != nil {
		return err
	}
	return botResult(resp)
}

// botResult reads the bots' application-level status: they answer HTTP 200
// even when they refuse a message. WeCom and DingTalk use errcode/errmsg,
// Feishu code/msg (older bots StatusCode/StatusMessage).
func botResult(body []byte) error {
	var r struct {
		ErrCode       *int   `json:"errcode"`
		ErrMsg        string `json:"errmsg"`
		Code          *int   `json:"code"`
		Msg           string `json:"msg"`
		StatusCode    *int   `json:"StatusCode"`
		StatusMessage string `json:"StatusMessage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("bot answered with something that is not JSON: %.200s", body)
	}
	switch {
	case r.ErrCode != nil && *r.ErrCode != 0:
		return fmt.Errorf("bot refused the message: errcode %d: %s", *r.ErrCode, r.ErrMsg)
	case r.Code != nil && *r.Code != 0:
		return fmt.Errorf("bot refused the message: code %d: %s", *r.Code, r.Msg)
	case r.StatusCode != nil && *r.StatusCode != 0:
		return fmt.Errorf("bot refused the message: StatusCode %d: %s", *r.StatusCode, r.StatusMessage)
	}
	return nil
}

// dingTalkSign adds DingTalk's timestamp and sign query parameters: the
// sign is base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func dingTalkSign(target, secret string, now time.Time) string {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	sign := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", sign)
	u.RawQuery = q.Encode()
	return u.String()
}

// feishuSign is Feishu's signature: base64(HMAC-SHA256 keyed with
// timestamp + "\n" + secret over an empty message).
func feishuSign(secret, ts string) string {
	mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
