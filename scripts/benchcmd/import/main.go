// Command import is the program behind scripts/bench/import: it boots the
// API in-process on the same wiring as api/cmd/api (embedded store and
// Redis unless MONGODB_URI / REDIS_URL say otherwise), generates a
// 50,000-row MIS export with mistest, and times a dry run and then a commit
// of it through HTTP, the commit including every invite queued (one invite
// broadcast, its expansion task and the reminders). The headline figures
// are printed last, one per line, as "name value unit": import_dryrun_s,
// import_commit_s and import_peak_rss_mb (this process's VmHWM, store
// included when embedded, in MB of 10^6 bytes).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/scripts/benchkit/benchapi"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench import:", err)
		os.Exit(1)
	}
}

const (
	benchPassword = "hometime-bench-1"
	benchSchoolID = "sch_bench_import"
	benchAdmin    = "admin@bench-import.test"
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// The import is measured as the API binary runs it (its GC settings).
	stack.TuneGC(getenv)
	fs := flag.NewFlagSet("bench-import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	rows := fs.Int("rows", 50_000, "data rows to generate (about; families are sized to reach it)")
	layout := fs.String("layout", string(mistest.LayoutSIMS), "MIS layout: sims, arbor, bromcom, sims-contacts")
	memEvery := fs.Duration("memtrace", 0, "print where memory is (Go heap or not) this often, and each phase's peak")
	heapDir := fs.String("heapprofiles", "", "with -memtrace, write a heap profile to this folder at each new heap peak")
	if err := fs.Parse(args); err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }
	phase := func(string) {}
	if *memEvery > 0 {
		mt := startMemTrace(stdout, *memEvery, *heapDir)
		defer mt.Stop()
		phase = mt.Phase
	}
	phase("generate")

	// The file: mistest writes about 1.45 rows per family (siblings,
	// duplicates); grow the family count until the rows are reached. It
	// is written to disk and uploaded from there, as a school's browser
	// would: the client's copy is not the server's memory, and holding it
	// here (a 16 MB buffer) would add to the peak this bench measures.
	file, err := os.CreateTemp("", "hometime-bench-import-*.csv")
	if err != nil {
		return err
	}
	defer func() {
		file.Close()
		os.Remove(file.Name())
	}()
	var exp mistest.Expected
	var size int64
	for families := *rows * 100 / 145; ; families += families/50 + 1 {
		if err := rewind(file); err != nil {
			return err
		}
		w := bufio.NewWriterSize(file, 1<<16)
		if exp, err = mistest.Generate(w, mistest.Config{Families: families, Layout: mistest.Layout(*layout), Seed: 50_000, BOM: true, CRLF: true}); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if size, err = file.Seek(0, io.SeekCurrent); err != nil {
			return err
		}
		if exp.Rows >= *rows {
			progress("generated %d rows (%d families, %d pupils, %d parents, %d invites), %.1f MB", exp.Rows, families,
				exp.Pupils, exp.Parents, exp.Invites, float64(size)/1e6)
			break
		}
	}

	phase("boot")
	api, err := benchapi.Start(ctx, "import", getenv)
	srv := &server{api}
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			progress("shutdown: %v", err)
		}
	}()
	progress("API on %s, store %s, redis %s", srv.BaseURL, srv.StoreKind, srv.RedisKind)
	token, err := srv.seedAdmin(ctx)
	if err != nil {
		return err
	}

	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{Proxy: nil}}
	upload := func(dry bool) (map[string]any, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			fmt.Sprintf("%s/v1/schools/%s/imports?dry_run=%t", srv.BaseURL, benchSchoolID, dry), io.NewSectionReader(file, 0, size))
		if err != nil {
			return nil, 0, err
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+token)
		began := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		took := time.Since(began)
		if err != nil {
			return nil, 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("import (dry run %t): status %d: %.300s", dry, resp.StatusCode, body)
		}
		var out map[string]any
		return out, took, json.Unmarshal(body, &out)
	}
	phase("dryrun")
	dry, dryTook, err := upload(true)
	if err != nil {
		return err
	}
	sum, _ := dry["summary"].(map[string]any)
	progress("dry run: %v pupils, %v new parents, %v invites, %v SMS segments in %s", sum["pupils"], sum["new_parents"],
		sum["invites"], sum["sms_segments"], dryTook.Round(time.Millisecond))
	if n, _ := sum["invites"].(float64); int(n) != exp.Invites {
		return fmt.Errorf("dry run planned %v invites, the generator expects %d", sum["invites"], exp.Invites)
	}
	phase("commit")
	committed, commitTook, err := upload(false)
	if err != nil {
		return err
	}
	progress("commit: import %v, %v parents invited by broadcast %v, in %s", committed["import_id"], committed["invited"],
		committed["invite_broadcast_id"], commitTook.Round(time.Millisecond))
	if n, _ := committed["invited"].(float64); int(n) != exp.Invites {
		return fmt.Errorf("commit invited %v, want %d", committed["invited"], exp.Invites)
	}
	// The peak is read before the check below: loading the whole roster
	// back is the bench's own verification, not part of the import.
	usage, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	phase("verify")
	snap, err := srv.Stack.Store.RosterSnapshot(ctx, benchSchoolID)
	if err != nil {
		return err
	}
	if len(snap.Children) != exp.Pupils || len(snap.Parents) != exp.Parents {
		return fmt.Errorf("%d children and %d parents stored, want %d and %d", len(snap.Children), len(snap.Parents), exp.Pupils, exp.Parents)
	}
	fmt.Fprintf(stdout, "import_dryrun_s %.2f s\n", dryTook.Seconds())
	fmt.Fprintf(stdout, "import_commit_s %.2f s\n", commitTook.Seconds())
	fmt.Fprintf(stdout, "import_peak_rss_mb %.0f MB\n", float64(usage.PeakRSS)/1e6)
	return nil
}

// rewind empties f for a fresh write.
func rewind(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// server is the API under test (benchkit/benchapi) and what the import
// bench does with it.
type server struct {
	*benchapi.Server
}

// seedAdmin writes an empty school and its admin, and signs in.
func (s *server) seedAdmin(ctx context.Context) (string, error) {
	now := time.Now().UTC()
	pw, err := api.NewPasswords(api.DefaultArgon2, 1)
	if err != nil {
		return "", err
	}
	hash, err := pw.Hash(ctx, benchPassword)
	if err != nil {
		return "", err
	}
	sc := api.NewSchoolDefaults("", now)
	sc.ID, sc.Name = benchSchoolID, "Hometime Bench Primary"
	if err := s.Stack.Store.CreateSchool(ctx, sc); err != nil {
		return "", err
	}
	st := &content.Staff{ID: "stf_bench_import", Email: benchAdmin, FirstName: "Bench", LastName: "Admin", PasswordHash: hash,
		Schools: []content.SchoolRoles{{SchoolID: sc.ID, Roles: []content.Role{content.RoleAdmin}}}, CreatedAt: now}
	if err := s.Stack.Store.CreateStaff(ctx, st); err != nil {
		return "", err
	}
	if err := s.Stack.Store.PutLogin(ctx, &content.Login{Key: "staff:email:" + benchAdmin, Kind: content.KindStaff, AccountID: st.ID}); err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"email": benchAdmin, "password": benchPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("sign in: status %d (%v)", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}
