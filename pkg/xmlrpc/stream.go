package xmlrpc

import (
	"fmt"
	"io"
)

// Stream is an array whose items are produced while it is encoded: the
// function passes each item to yield in turn and returns yield's first
// error or its own. system.multicall answers with one so that its results
// are encoded one by one as the calls run, instead of all being kept.
// AppendResponse collects a Stream like any array; WriteResponse writes it
// out as it goes.
type Stream func(yield func(item any) error) error

func appendStream(dst []byte, s Stream, depth int) ([]byte, error) {
	dst = append(dst, arrayHead...)
	i := 0
	err := s(func(item any) error {
		var err error
		if dst, err = appendValue(dst, item, depth+1); err != nil {
			return fmt.Errorf("array item %d: %w", i, err)
		}
		i++
		return nil
	})
	if err != nil {
		return dst, err
	}
	return append(dst, arrayTail...), nil
}

// WriteResponse encodes v as AppendResponse does, into scratch's memory
// when it is big enough (the caller may reuse the returned body after
// sending it). When the whole response stays under spill bytes nothing is
// written: it is returned, for the caller to send with a Content-Length. A larger response, which only a
// Stream at the top can make, is written to w whenever more than spill
// bytes are pending, so that memory stays bounded; then body is nil and
// written tells that w has been written to: an error after that can no
// longer become another answer (the caller should drop the connection).
func WriteResponse(w io.Writer, v any, spill int, scratch []byte) (body []byte, written bool, err error) {
	s, ok := v.(Stream)
	if !ok {
		body, err = AppendResponse(scratch[:0], v)
		return body, false, err
	}
	if cap(scratch) < 4096 {
		scratch = make([]byte, 0, 4096)
	}
	buf := append(scratch[:0], responseHead+paramsHead+arrayHead...)
	i := 0
	err = s(func(item any) error {
		var err error
		if buf, err = appendValue(buf, item, 1); err != nil {
			return fmt.Errorf("array item %d: %w", i, err)
		}
		i++
		if len(buf) > spill {
			written = true
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	})
	if err != nil {
		return nil, written, err
	}
	buf = append(buf, arrayTail+paramsTail+responseTail...)
	if !written {
		return buf, false, nil
	}
	_, err = w.Write(buf)
	return nil, true, err
}
