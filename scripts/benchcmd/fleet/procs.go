package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
)

// proc is one API or worker process of the fleet, a real binary started
// with its own environment. It can be killed and started again on the same
// addresses; its CPU and memory are sampled over every incarnation.
type proc struct {
	name  string
	bin   string
	env   []string
	ready string // URL that answers 200 once the process serves
	logf  *os.File

	mu      sync.Mutex
	cmd     *exec.Cmd
	sampler *benchkit.Sampler
	exited  chan struct{}
	// usage of incarnations that have ended
	pastCPU  time.Duration
	peakRSS  int64
	lastRSS  int64
	restarts int
}

func newProc(name, bin, dir string, env map[string]string, ready string) (*proc, error) {
	p := &proc{name: name, bin: bin, ready: ready}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	p.logf = f
	return p, nil
}

// start runs a new incarnation and waits until it serves.
func (p *proc) start(ctx context.Context) error {
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.logf, p.logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.sampler = benchkit.StartSampler(cmd.Process.Pid, 250*time.Millisecond)
	p.mu.Unlock()
	return waitServing(ctx, p.ready, exited, 60*time.Second, p.name)
}

// kill SIGKILLs the running incarnation and waits for it to be gone.
func (p *proc) kill() error {
	p.mu.Lock()
	cmd, exited, s := p.cmd, p.exited, p.sampler
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-exited
	p.collect(s, cmd)
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return nil
}

// stop ends the running incarnation with SIGTERM (a graceful shutdown).
func (p *proc) stop() {
	p.mu.Lock()
	cmd, exited, s := p.cmd, p.exited, p.sampler
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	p.collect(s, cmd)
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	_ = p.logf.Close()
}

func (p *proc) collect(s *benchkit.Sampler, cmd *exec.Cmd) {
	sampled, err := s.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if cmd.ProcessState != nil {
		u := benchkit.ExitedUsage(cmd.ProcessState)
		p.pastCPU += u.CPU()
		p.peakRSS = max(p.peakRSS, u.PeakRSS)
	} else if err == nil {
		p.pastCPU += sampled.Last.CPU()
	}
	if err == nil {
		p.peakRSS = max(p.peakRSS, sampled.MaxRSS)
		p.lastRSS = sampled.Last.RSS
	}
}

// usage is the CPU used by every incarnation so far (the running one read
// now) and the largest resident set seen.
func (p *proc) usage() (cpu time.Duration, peak, rss int64) {
	p.mu.Lock()
	cmd, past, pk := p.cmd, p.pastCPU, p.peakRSS
	p.mu.Unlock()
	if cmd != nil {
		if u, err := benchkit.ProcessUsage(cmd.Process.Pid); err == nil {
			return past + u.CPU(), max(pk, u.PeakRSS), u.RSS
		}
	}
	return past, pk, p.lastRSS
}

// waitServing polls url until it answers 200, the process exits, or the
// time is up.
func waitServing(ctx context.Context, url string, exited <-chan struct{}, within time.Duration, name string) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before serving (see its log)", name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not serve %s within %s", name, url, within)
		}
	}
}

// redisServer runs a redis-server of the bench's own on a loopback port,
// without persistence: the fleet's queue, separate from any other Redis.
type redisServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
	url    string
}

func startRedis(ctx context.Context, port int, dir string) (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &redisServer{cmd: cmd, exited: make(chan struct{}), url: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for !benchkit.RedisAnswers(ctx, r.url) {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("redis-server on port %d exited at start (port taken?)", port)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer within 10s", port)
		}
	}
	return r, nil
}

func (r *redisServer) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

func (r *redisServer) pid() int { return r.cmd.Process.Pid }
