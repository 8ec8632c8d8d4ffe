using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Persistence;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header,
/// then raw little-endian tensor bytes). It is our one on-disk tensor format: model weights inside
/// ML.NET zips, training checkpoints and adapter packs all use it, and Hugging Face / PyTorch read
/// it directly. Keys are written in sorted order so equal state gives byte-identical files.
/// </summary>
internal static class SafeTensors
{
    private static readonly Dictionary<ScalarType, string> DTypeNames = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8", [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    /// <summary>Writes <paramref name="tensors"/> (any device) to <paramref name="stream"/>; the stream stays open.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 })
            header["__metadata__"] = metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);
        var blobs = new List<byte[]>(ordered.Count);
        long offset = 0;
        foreach (var (name, tensor) in ordered)
        {
            if (!DTypeNames.TryGetValue(tensor.dtype, out var dtypeName))
                throw new NotSupportedException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors output does not support here.");
            using var cpu = tensor.detach().cpu().contiguous();
            byte[] bytes = cpu.bytes.ToArray();
            blobs.Add(bytes);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = dtypeName,
                ["shape"] = tensor.shape,
                ["data_offsets"] = new[] { offset, offset + bytes.LongLength },
            };
            offset += bytes.LongLength;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        // Pad the header with spaces to an 8-byte boundary, as the reference implementation does.
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);
        stream.Write(BitConverter.GetBytes((ulong)padded));
        stream.Write(headerBytes);
        foreach (var blob in blobs) stream.Write(blob);
    }

    /// <summary>Serialises to a byte array.</summary>
    public static byte[] ToBytes(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors, metadata);
        return ms.ToArray();
    }

    /// <summary>Reads every tensor (on the CPU). Throws <see cref="InvalidDataException"/> for a malformed file.</summary>
    public static Dictionary<string, Tensor> Read(byte[] data, out Dictionary<string, string> metadata, string sourceName = "safetensors data")
    {
        metadata = new Dictionary<string, string>();
        if (data.Length < 8) throw new InvalidDataException($"{sourceName} is truncated: {data.Length} bytes, no header.");
        ulong headerLen = BitConverter.ToUInt64(data, 0);
        if (headerLen > (ulong)(data.Length - 8))
            throw new InvalidDataException($"{sourceName} is truncated or corrupt: header of {headerLen} bytes in a file of {data.Length} bytes.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(data, 8, (int)headerLen)); }
        catch (JsonException e) { throw new InvalidDataException($"{sourceName} has a corrupt header: {e.Message}", e); }
        long dataStart = 8 + (long)headerLen;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (doc)
        {
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                string dtypeName = prop.Value.GetProperty("dtype").GetString() ?? "";
                var dtype = DTypeNames.FirstOrDefault(kv => kv.Value == dtypeName);
                if (dtype.Value is null) throw new InvalidDataException($"{sourceName}: tensor '{prop.Name}' has unsupported dtype '{dtypeName}'.");
                long[] shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long begin = dataStart + offs[0], end = dataStart + offs[1];
                if (offs.Length != 2 || begin > end || end > data.Length)
                    throw new InvalidDataException($"{sourceName} is truncated or corrupt: tensor '{prop.Name}' lies outside the file.");
                var t = torch.empty(shape, dtype.Key);
                long expected = t.numel() * t.element_size();
                if (expected != end - begin)
                {
                    t.Dispose();
                    throw new InvalidDataException($"{sourceName}: tensor '{prop.Name}' has {end - begin} bytes, its shape needs {expected}.");
                }
                if (expected > 0) t.bytes = new Span<byte>(data, (int)begin, (int)(end - begin));
                result[prop.Name] = t;
            }
        }
        return result;
    }
}
