package metrics

import (
	"bytes"
	"net/http"

	vm "github.com/VictoriaMetrics/metrics"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves GET (and HEAD) requests with the series collect writes,
// then the Go runtime metrics (go_*) and, where the system has them, the
// process metrics (process_*: CPU, memory, open file descriptors). It
// answers other methods with 405.
func Handler(collect func(w *Writer)) http.Handler {
	vm.ExposeMetadata(true) // # HELP and # TYPE on go_* and process_* too; idempotent
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			rw.Header().Set("Allow", http.MethodGet)
			http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var w Writer
		collect(&w)
		buf := bytes.NewBuffer(w.Bytes())
		vm.WriteGoMetrics(buf)
		vm.WriteProcMetrics(buf)
		vm.WriteFDMetrics(buf)
		rw.Header().Set("Content-Type", ContentType)
		_, _ = rw.Write(buf.Bytes())
	})
}
