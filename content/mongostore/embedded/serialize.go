package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// FerretDB 1.24 on SQLite applies an update by reading the matching
// document and writing it back, outside any transaction: two concurrent
// updates of one document interleave and one is lost (measured: 8×50
// concurrent $inc land 80 of 400 times; findAndModify hands out the same
// "before" value twice). MongoDB makes every single-document write atomic,
// and Hometime's exactly-once claims depend on it.
//
// writeSerializer restores that guarantee for the embedded store: clients
// connect to it, it relays the wire protocol to FerretDB, and it lets one
// write command at a time through. SQLite admits a single writer anyway, so
// this costs little; reads pass without waiting. Every client goes through
// it, other processes included, so the guarantee holds across processes.
type writeSerializer struct {
	ln       net.Listener
	upstream string
	writes   sync.Mutex // held from forwarding a write until its reply is back
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	// Commands relayed, for benchmarks that count store round trips
	// across every process sharing the store.
	reads, writeCount atomic.Int64
}

// Wire protocol opcodes (MongoDB).
const (
	opMsg        = 2013
	opCompressed = 2012
	maxMessage   = 48 << 20 // MongoDB's maxMessageSizeBytes
)

// writeCommands are the commands that change documents or collections.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "drop": true, "dropDatabase": true, "createIndexes": true, "dropIndexes": true,
	"renameCollection": true, "collMod": true,
}

// startSerializer listens on the Unix socket path and relays to FerretDB's
// socket upstream.
func startSerializer(path, upstream string) (*writeSerializer, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("embedded store relay: %w", err)
	}
	s := &writeSerializer{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *writeSerializer) Addr() string { return s.ln.Addr().String() }

func (s *writeSerializer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.relay(c)
		}()
	}
}

func (s *writeSerializer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *writeSerializer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// relay forwards one client connection. The protocol is request/response
// per connection (the driver neither pipelines nor uses exhaust cursors by
// default), so each request's reply is read before the next request.
// Requests are read whole (to classify them) into a buffer reused for the
// connection's life; replies are streamed through without a whole copy.
func (s *writeSerializer) relay(client net.Conn) {
	server, err := net.Dial("unix", s.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	var buf []byte
	for {
		buf, err = readMessage(client, buf)
		if err != nil {
			return
		}
		write, moreToCome := classify(buf)
		if write {
			s.writeCount.Add(1)
			s.writes.Lock()
		} else {
			s.reads.Add(1)
		}
		err = s.roundTrip(server, client, buf, moreToCome)
		if write {
			s.writes.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// roundTrip sends one message upstream and relays its reply, if one is due.
// The reply read is bounded so a stuck upstream cannot hold the write lock
// for ever.
func (s *writeSerializer) roundTrip(server, client net.Conn, msg []byte, moreToCome bool) error {
	if _, err := server.Write(msg); err != nil {
		return err
	}
	if moreToCome {
		return nil
	}
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Minute))
	var hdr [4]byte
	if _, err := io.ReadFull(server, hdr[:]); err != nil {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(hdr[:]))
	if n < 16 || n > maxMessage {
		return fmt.Errorf("wire reply of %d bytes", n)
	}
	if _, err := client.Write(hdr[:]); err != nil {
		return err
	}
	_, err := io.CopyN(client, server, n-4)
	return err
}

// readMessage reads one length-prefixed wire message into buf (grown as
// needed) and returns it.
func readMessage(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < 16 || n > maxMessage {
		return buf, fmt.Errorf("wire message of %d bytes", n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, hdr[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return buf, err
	}
	return buf, nil
}

// classify reports whether a message is a write command and whether the
// client expects no reply (OP_MSG moreToCome). Anything it cannot read
// (compressed, malformed) is treated as a write: serialising a read costs
// a little time, missing a write costs correctness.
func classify(msg []byte) (write, moreToCome bool) {
	op := binary.LittleEndian.Uint32(msg[12:16])
	switch op {
	case opMsg:
	case opCompressed:
		return true, false
	default:
		return false, false // legacy OP_QUERY handshakes
	}
	if len(msg) < 21 {
		return true, false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	moreToCome = flags&2 != 0
	body := msg[20:]
	if flags&1 != 0 && len(body) >= 4 { // checksum present at the end
		body = body[:len(body)-4]
	}
	name, err := commandName(body)
	if err != nil {
		return true, moreToCome
	}
	return writeCommands[name], moreToCome
}

// commandName finds the kind-0 section and returns its first key.
func commandName(sections []byte) (string, error) {
	for len(sections) > 0 {
		kind := sections[0]
		sections = sections[1:]
		if len(sections) < 4 {
			return "", errors.New("short section")
		}
		size := int(binary.LittleEndian.Uint32(sections[:4]))
		if size < 5 || size > len(sections) {
			return "", errors.New("bad section size")
		}
		if kind == 0 {
			doc := sections[:size]
			// int32 length, then the first element: type byte, cstring key.
			if len(doc) < 6 {
				return "", errors.New("empty command")
			}
			end := bytes.IndexByte(doc[5:], 0)
			if end < 0 {
				return "", errors.New("unterminated key")
			}
			return string(doc[5 : 5+end]), nil
		}
		sections = sections[size:] // kind 1: int32 size covers the whole sequence
	}
	return "", errors.New("no command section")
}

// Close stops accepting, drops open connections and waits for relays.
func (s *writeSerializer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
