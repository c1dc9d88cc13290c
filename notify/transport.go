package notify

import "net/http"

// ProviderIdleConns is how many idle keep-alive connections a provider
// adapter keeps to its API host. Senders call the provider from many
// goroutines at once (one per SMS in flight); with net/http's default of 2
// idle connections per host, every call beyond two would open a new
// connection (a TLS handshake to the real API) and close it after, which
// costs more than the call. 100 matches Twilio's default account
// concurrency for its REST API.
const ProviderIdleConns = 100

// ProviderTransport is the HTTP transport a provider adapter owns when its
// configuration names none: http.DefaultTransport's settings (proxy from the
// environment, dial and TLS timeouts, HTTP/2) with ProviderIdleConns kept
// alive per host.
func ProviderTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, ProviderIdleConns)
	t.MaxIdleConnsPerHost = ProviderIdleConns
	return t
}
