package train

import (
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// writeVersion writes cp as a checkpoint claiming format version v.
func writeVersion(path string, cp *Checkpoint, v int) error {
	body, err := msgpack.Marshal(&wire{Version: v, Config: cp.Config, Options: cp.Options,
		Params: floatsToBytes(cp.Params), M: floatsToBytes(cp.M), V: floatsToBytes(cp.V)})
	if err != nil {
		return err
	}
	zw, _ := zstd.NewWriter(nil)
	defer zw.Close()
	return os.WriteFile(path, append(append([]byte(nil), checkpointMagic...), zw.EncodeAll(body, nil)...), 0o644)
}
