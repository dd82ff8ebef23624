package mqttlink

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// dialBroker opens the connection paho speaks MQTT over, with its reads
// buffered. paho reads every packet straight off the socket, its fixed
// header a byte at a time: three read(2)s per PUBACK, which on a two-core
// board draining a backlog is CPU the publisher and the broker need.
// Writes are left as paho makes them, one per packet: combining them looks
// cheaper still, but mosquitto 2.0 then takes one packet per wakeup from
// what arrived together and the drain stalls (measured: 40,000 → 3,700
// records/s).
func dialBroker(uri *url.URL, opts mqtt.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: opts.ConnectTimeout}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = d.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts", "tcps":
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		// The broker's certificate is verified, always, and against the
		// name the kiosk dialed: a records link that accepted any
		// certificate would hand villagers' phone numbers to whoever
		// answers on the township's address.
		cfg.InsecureSkipVerify = false
		if cfg.ServerName == "" {
			cfg.ServerName = uri.Hostname()
		}
		conn, err = tls.DialWithDialer(d, "tcp", uri.Host, cfg)
	default:
		return nil, fmt.Errorf("mqttlink: unsupported broker scheme %q", uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}, nil
}

// bufferedConn is a connection whose reads go through a buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
