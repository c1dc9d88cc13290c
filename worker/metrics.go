package worker

import (
	"github.com/hometime-edu/hometime/content"
	"github.com/prometheus/client_golang/prometheus"
)

// MessageMetrics counts what became of messages, by channel, provider and
// outcome: hometime_messages_total. Labels are fixed vocabularies — never
// ids, contacts or content.
type MessageMetrics struct {
	outcomes *prometheus.CounterVec
}

// NewMessageMetrics registers the counters on reg.
func NewMessageMetrics(reg prometheus.Registerer) *MessageMetrics {
	m := &MessageMetrics{outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hometime_messages_total",
		Help: "Messages by channel, provider and outcome (sent, unknown, failed, suppressed; deferred and retry when handed back).",
	}, []string{"channel", "provider", "outcome"})}
	reg.MustRegister(m.outcomes)
	return m
}

// Providers names the provider behind each channel ("twilio", "sendgrid",
// "fcm" or "outbox"), for the provider label.
type Providers struct {
	SMS, Email, Push string
}

// outcomeCounter counts one recorded outcome on a channel.
type outcomeCounter func(channel string, o content.EntryOutcome)

// counter counts outcomes sent through provider; nil metrics count nothing.
func (m *MessageMetrics) counter(provider string) outcomeCounter {
	if m == nil {
		return nil
	}
	if provider == "" {
		provider = "unknown"
	}
	return func(channel string, o content.EntryOutcome) {
		m.outcomes.WithLabelValues(channel, provider, outcomeLabel(o)).Inc()
	}
}

// outcomeLabel is the outcome an entry's result is counted under.
func outcomeLabel(o content.EntryOutcome) string {
	if o.Release && o.State == content.StatePending {
		return "retry"
	}
	return string(o.State)
}
