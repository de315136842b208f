package alerting

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

type emailNotifier struct {
	cfg settings.Email
}

func (e *emailNotifier) Notify(ctx context.Context, n *Notification) error {
	host, port, err := net.SplitHostPort(e.cfg.Smarthost)
	if err != nil {
		return fmt.Errorf("smarthost %q: %w", e.cfg.Smarthost, err)
	}
	tlsCfg := &tls.Config{ServerName: host, InsecureSkipVerify: e.cfg.InsecureSkipVerify} //nolint:gosec // user's choice
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	if port == "465" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", e.cfg.Smarthost)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", e.cfg.Smarthost)
	}
	if err != nil {
		return fmt.Errorf("connecting to SMTP server %s: %w", e.cfg.Smarthost, err)
	}
	// The SMTP client has no context support: bound the whole exchange.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting SMTP server %s: %w", e.cfg.Smarthost, err)
	}
	defer c.Close()
	if err := c.Hello("outpost"); err != nil {
		return fmt.Errorf("SMTP HELO: %w", err)
	}
	_, encrypted := conn.(*tls.Conn)
	if !encrypted {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return fmt.Errorf("SMTP STARTTLS: %w", err)
			}
			encrypted = true
		}
	}
	if !encrypted && e.cfg.RequireTLS {
		return errors.New("SMTP server offers no TLS and require-tls is set")
	}
	if e.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("SMTP server does not offer AUTH but a username is configured")
		}
		// smtp.PlainAuth refuses to send the password over plain text
		// except to localhost, which is what we want.
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password.Reveal(), host)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(e.cfg.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	for _, to := range e.cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(e.message(n)); err != nil {
		return fmt.Errorf("writing email: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP end of DATA: %w", err)
	}
	return c.Quit()
}

func (e *emailNotifier) message(n *Notification) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", e.cfg.From)
	h("To", strings.Join(e.cfg.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject(n)))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("MIME-Version", "1.0")
	h("Content-Type", `text/plain; charset="utf-8"`)
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(renderText(n), "\n", "\r\n"))
	return []byte(b.String())
}
