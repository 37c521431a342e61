package logic

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Result codes of the HTTP API, as goim's.
const (
	CodeOK         = 0
	CodeRequestErr = -400
	CodeServerErr  = -500
)

// Response is the JSON body of every HTTP API answer. Data is omitted when
// there is none.
type Response struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// okBody is the answer of a success without data.
const okBody = `{"code":0,"message":""}`

const contentType = "application/json; charset=utf-8"

// newHandler builds the HTTP API.
func (l *Logic) newHandler() http.Handler {
	mux := http.NewServeMux()
	post := func(path string, h http.HandlerFunc) { mux.Handle(path, l.requireKey(l.allow(http.MethodPost, h))) }
	query := func(path string, h http.HandlerFunc) {
		if l.cfg.PublicQueries {
			mux.Handle(path, l.allow(http.MethodGet, h))
		} else {
			mux.Handle(path, l.requireKey(l.allow(http.MethodGet, h)))
		}
	}
	post("/goim/push/keys", l.handlePushKeys)
	post("/goim/push/mids", l.handlePushMids)
	post("/goim/push/room", l.handlePushRoom)
	post("/goim/push/all", l.handlePushAll)
	query("/goim/online/top", l.handleOnlineTop)
	query("/goim/online/room", l.handleOnlineRoom)
	query("/goim/online/total", l.handleOnlineTotal)
	mux.Handle("/goim/nodes/weighted", l.allow(http.MethodGet, l.handleNodesWeighted)) // public: clients call it
	query("/goim/nodes/instances", l.handleNodesInstances)
	query("/nodes/instances", l.handleNodesInstances)
	post("/goim/admin/comets/{id}/drain", l.handleDrainComet)
	query("/goim/admin/stats", l.handleAdminStats)
	mux.Handle("/{$}", l.allow(http.MethodGet, l.handleStatusPage)) // public: the page holds no data
	for path, h := range l.cfg.Handlers {
		mux.Handle(path, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		l.writeBadRequest(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return l.recoverer(mux)
}

// allow rejects every method but method (and HEAD for GET) with 405.
func (l *Logic) allow(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
			w.Header().Set("Allow", method)
			l.writeBadRequest(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed, use "+method)
			return
		}
		h(w, r)
	})
}

// recoverer answers -500 instead of dropping the connection when a handler
// panics, and logs the panic.
func (l *Logic) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			l.log.Error("logic: http handler panic", "path", r.URL.Path, "panic", v)
			writeError(w, http.StatusInternalServerError, CodeServerErr, "internal error")
		}()
		h.ServeHTTP(w, r)
	})
}

// writeBody writes a JSON body with status.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeOK answers code 0 without data.
func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, okBody)
}

// writeData answers code 0 with data.
func writeData(w http.ResponseWriter, data any) {
	b, err := json.Marshal(Response{Code: CodeOK, Data: data})
	if err != nil {
		writeError(w, http.StatusOK, CodeServerErr, "encode answer: "+err.Error())
		return
	}
	writeBody(w, http.StatusOK, b)
}

// writeError answers code with message msg.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	b, _ := json.Marshal(Response{Code: code, Message: msg}) // cannot fail
	writeBody(w, status, b)
}

// writeBadRequest answers -400 with HTTP status and counts it in
// Stats.BadRequests.
func (l *Logic) writeBadRequest(w http.ResponseWriter, status int, msg string) {
	l.stats.badRequests.Add(1)
	writeError(w, status, CodeRequestErr, msg)
}

// writeRequestErr answers a bad request: -400 with HTTP 400; one over a
// limit also counts in Stats.OverLimit.
func (l *Logic) writeRequestErr(w http.ResponseWriter, err error) {
	if isLimitErr(err) {
		l.stats.overLimit.Add(1)
	}
	l.writeBadRequest(w, http.StatusBadRequest, message(err))
}

// writeServerErr answers a failure: -500 with HTTP 200.
func writeServerErr(w http.ResponseWriter, err error) {
	writeError(w, http.StatusOK, CodeServerErr, message(err))
}

// message is err's text for a caller, without the package prefix.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "logic: ")
}

// isRequestErr reports whether err is the caller's fault.
func isRequestErr(err error) bool {
	return errors.Is(err, ErrBadParam) || errors.Is(err, ErrMessageTooLarge)
}
