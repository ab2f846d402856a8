package inference

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// promptDebounce is how long the watcher waits after the last change in
// the directory before it reloads, so that an editor's burst (write a
// temporary file, rename it over the old one, chmod) or a copy of several
// files reloads once, with every file complete. 100 ms is far below what
// a person deploying a prompt notices and far above the gap between the
// events of one save.
const promptDebounce = 100 * time.Millisecond

// Reload rereads PromptOptions.Dir, checks every template as OpenPrompts
// does and swaps the new set in whole. On any error (a file that does not
// parse, a bad file name, a field the registered data type lacks, a
// weighted version that is gone, an unreadable directory) it keeps
// serving the set it had, logs the error, counts it
// (hearth_prompt_reloads_total{result="error"}) and returns it; Err
// returns it until a reload succeeds. A reload that finds the same
// templates changes nothing. Without Dir it does nothing.
func (p *Prompts) Reload() error {
	if p.opts.Dir == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.set.Load()
	set, err := p.build(p.opts.Weights)
	if err != nil {
		p.reloadErrors.Add(1)
		p.lastErr = err
		p.opts.Logger.Error("prompts: reload failed; still serving the previous templates", "dir", p.opts.Dir, "err", err)
		return err
	}
	p.reloads.Add(1)
	p.lastErr = nil
	if slices.Equal(set.refs, cur.refs) {
		return nil
	}
	p.set.Store(set)
	p.opts.Logger.Info("prompts: reloaded", "dir", p.opts.Dir, "changed", changedRefs(cur.refs, set.refs))
	return nil
}

// changedRefs lists what a reload added, changed (a new hash) or removed,
// e.g. "+npc.dialogue@3 ~npc.bark@1 -npc.dialogue@1".
func changedRefs(old, cur []PromptRef) string {
	before := map[string]string{}
	for _, r := range old {
		before[r.String()] = r.Hash
	}
	var out []string
	for _, r := range cur {
		h, ok := before[r.String()]
		switch {
		case !ok:
			out = append(out, "+"+r.String())
		case h != r.Hash:
			out = append(out, "~"+r.String())
		}
		delete(before, r.String())
	}
	for _, r := range old {
		if _, gone := before[r.String()]; gone {
			out = append(out, "-"+r.String())
		}
	}
	return strings.Join(out, " ")
}

// Err returns the error of the latest reload, nil when it succeeded (or
// none has run): what a health check or an admin page shows while a
// broken file waits to be fixed.
func (p *Prompts) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// watch starts the fsnotify watcher on Dir and its loop.
//
// Why fsnotify and not polling: a change is picked up within the debounce
// (100 ms) and an idle server reads nothing. fsnotify watches the
// directory, not the files, so the patterns deployments use all arrive as
// events on it: an editor's write-to-temp-then-rename, cp, rsync, and a
// Kubernetes ConfigMap's "..data" symlink swap. Where the directory's
// file system sends no events (some network mounts), Reload is the
// fallback, e.g. from a SIGHUP handler.
func (p *Prompts) watch() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("inference: watching prompt directory %s: %w", p.opts.Dir, err)
	}
	if err := w.Add(p.opts.Dir); err != nil {
		w.Close()
		return fmt.Errorf("inference: watching prompt directory %s: %w", p.opts.Dir, err)
	}
	p.watcher = w
	p.done = make(chan struct{})
	go p.watchLoop()
	return nil
}

func (p *Prompts) watchLoop() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-p.watcher.Events:
			if !ok {
				return
			}
			if relevant(ev) {
				timer.Reset(promptDebounce)
			}
		case err, ok := <-p.watcher.Errors:
			if !ok {
				return
			}
			// An overflow loses events: reload to be sure.
			p.opts.Logger.Warn("prompts: watcher", "dir", p.opts.Dir, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				timer.Reset(promptDebounce)
			}
		case <-timer.C:
			_ = p.Reload() // logged, counted and kept in Err
		}
	}
}

// relevant reports whether ev may change the set: a template file, or a
// name starting with ".." (a ConfigMap's atomic symlink swap). Chmod
// alone changes no content.
func relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	return strings.HasSuffix(base, PromptExt) || strings.HasPrefix(base, "..")
}

// Close stops watching the directory (PromptOptions.Watch) and waits for
// the watcher's goroutine; the loaded templates keep rendering. It is
// safe to call more than once and on Prompts that do not watch.
func (p *Prompts) Close() error {
	var err error
	p.closeMu.Do(func() {
		if p.watcher == nil {
			return
		}
		err = p.watcher.Close()
		<-p.done
	})
	return err
}
