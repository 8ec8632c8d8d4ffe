using System.Buffers.Binary;
using System.Text;

namespace MLNetForgetting.Interop;

/// <summary>One initializer (or Constant-node value) of an ONNX graph: name, element type, shape and raw little-endian data.</summary>
internal sealed record OnnxTensor(string Name, int DataType, long[] Dims, byte[] Data)
{
    /// <summary>TensorProto.DataType values we read.</summary>
    public const int Float = 1, Int32 = 6, Int64 = 7, Double = 11;

    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    public float[] ToFloats()
    {
        if (DataType != Float) throw new InvalidDataException($"ONNX tensor '{Name}' has data type {DataType}, not float (1).");
        var result = new float[Data.Length / 4];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(4 * i));
        return result;
    }

    public long[] ToInt64s() => DataType switch
    {
        Int64 => Enumerable.Range(0, Data.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan(8 * i))).ToArray(),
        Int32 => Enumerable.Range(0, Data.Length / 4).Select(i => (long)BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(4 * i))).ToArray(),
        _ => throw new InvalidDataException($"ONNX tensor '{Name}' has data type {DataType}, not an integer type."),
    };

    public double[] ToDoubles() => DataType switch
    {
        Float => ToFloats().Select(f => (double)f).ToArray(),
        Double => Enumerable.Range(0, Data.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(Data.AsSpan(8 * i))).ToArray(),
        _ => ToInt64s().Select(l => (double)l).ToArray(),
    };
}

/// <summary>One node: operator, inputs, outputs, and the attributes we look at (floats, ints, a tensor value).</summary>
internal sealed record OnnxNode(string Name, string OpType, string[] Inputs, string[] Outputs,
    IReadOnlyDictionary<string, double> FloatAttributes, IReadOnlyDictionary<string, long[]> IntAttributes, OnnxTensor? Value);

/// <summary>The parts of an ONNX ModelProto a weight converter needs: the graph's initializers, nodes and input names.</summary>
internal sealed record OnnxGraph(IReadOnlyList<OnnxTensor> Initializers, IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// A minimal reader of the ONNX protobuf (ModelProto → GraphProto → NodeProto / TensorProto), hand-written
/// on the protobuf wire format so the library needs no protobuf or ONNX package. It reads what weight
/// conversion needs and skips every other field; tensors stored outside the file (external data) are refused.
/// Field numbers are those of onnx.proto3.
/// </summary>
internal static class OnnxProtobuf
{
    public static OnnxGraph ReadModel(byte[] bytes, string source)
    {
        try
        {
            var r = new Reader(bytes, 0, bytes.Length);
            OnnxGraph? graph = null;
            while (r.More)
            {
                var (field, wire) = r.Tag();
                if (field == 7 && wire == 2) graph = ReadGraph(r.Sub());
                else r.Skip(wire);
            }
            return graph ?? throw new InvalidDataException($"'{source}' is not an ONNX model: it has no graph.");
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException or FormatException)
        {
            throw new InvalidDataException($"'{source}' is not a readable ONNX protobuf file: {e.Message}", e);
        }
    }

    private static OnnxGraph ReadGraph(Reader r)
    {
        var nodes = new List<OnnxNode>();
        var inits = new List<OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (r.More)
        {
            var (field, wire) = r.Tag();
            switch (field, wire)
            {
                case (1, 2): nodes.Add(ReadNode(r.Sub())); break;
                case (5, 2): inits.Add(ReadTensor(r.Sub())); break;
                case (11, 2): inputs.Add(ReadValueInfoName(r.Sub())); break;
                case (12, 2): outputs.Add(ReadValueInfoName(r.Sub())); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxGraph(inits, nodes, inputs, outputs);
    }

    private static string ReadValueInfoName(Reader r)
    {
        string name = "";
        while (r.More)
        {
            var (field, wire) = r.Tag();
            if (field == 1 && wire == 2) name = r.String();
            else r.Skip(wire);
        }
        return name;
    }

    private static OnnxNode ReadNode(Reader r)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", op = "";
        var floats = new Dictionary<string, double>(StringComparer.Ordinal);
        var ints = new Dictionary<string, long[]>(StringComparer.Ordinal);
        OnnxTensor? value = null;
        while (r.More)
        {
            var (field, wire) = r.Tag();
            switch (field, wire)
            {
                case (1, 2): inputs.Add(r.String()); break;
                case (2, 2): outputs.Add(r.String()); break;
                case (3, 2): name = r.String(); break;
                case (4, 2): op = r.String(); break;
                case (5, 2):
                    {
                        // AttributeProto: 1 name, 2 f, 3 i, 5 t, 8 ints.
                        var a = r.Sub();
                        string attr = "";
                        double? f = null;
                        var list = new List<long>();
                        OnnxTensor? t = null;
                        while (a.More)
                        {
                            var (af, aw) = a.Tag();
                            switch (af, aw)
                            {
                                case (1, 2): attr = a.String(); break;
                                case (2, 5): f = a.Float(); break;
                                case (3, 0): list.Add((long)a.Varint()); break;
                                case (5, 2): t = ReadTensor(a.Sub()); break;
                                case (8, 0): list.Add((long)a.Varint()); break;
                                case (8, 2): { var p = a.Sub(); while (p.More) list.Add((long)p.Varint()); break; }
                                default: a.Skip(aw); break;
                            }
                        }
                        if (f is double fv) floats[attr] = fv;
                        if (list.Count > 0) ints[attr] = [.. list];
                        if (t is not null && attr == "value") value = t;
                        break;
                    }
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(name, op, [.. inputs], [.. outputs], floats, ints, value);
    }

    private static OnnxTensor ReadTensor(Reader r)
    {
        var dims = new List<long>();
        int type = 0;
        string name = "";
        byte[]? raw = null;
        var floats = new List<float>();
        var int64s = new List<long>();
        var int32s = new List<int>();
        var doubles = new List<double>();
        bool external = false;
        while (r.More)
        {
            var (field, wire) = r.Tag();
            switch (field, wire)
            {
                case (1, 0): dims.Add((long)r.Varint()); break;
                case (1, 2): { var p = r.Sub(); while (p.More) dims.Add((long)p.Varint()); break; }
                case (2, 0): type = (int)r.Varint(); break;
                case (4, 5): floats.Add(r.Float()); break;
                case (4, 2): { var p = r.Sub(); while (p.More) floats.Add(p.Float()); break; }
                case (5, 0): int32s.Add((int)(long)r.Varint()); break;
                case (5, 2): { var p = r.Sub(); while (p.More) int32s.Add((int)(long)p.Varint()); break; }
                case (7, 0): int64s.Add((long)r.Varint()); break;
                case (7, 2): { var p = r.Sub(); while (p.More) int64s.Add((long)p.Varint()); break; }
                case (8, 2): name = r.String(); break;
                case (9, 2): raw = r.Bytes(); break;
                case (10, 1): doubles.Add(r.Double()); break;
                case (10, 2): { var p = r.Sub(); while (p.More) doubles.Add(p.Double()); break; }
                case (14, 0): external = r.Varint() == 1; break;
                default: r.Skip(wire); break;
            }
        }
        if (external) throw new InvalidDataException($"ONNX tensor '{name}' is stored in an external data file, which this reader does not follow.");
        byte[] data = raw ?? type switch
        {
            OnnxTensor.Float => floats.SelectMany(BitConverter.GetBytes).ToArray(),
            OnnxTensor.Int64 => int64s.SelectMany(BitConverter.GetBytes).ToArray(),
            OnnxTensor.Int32 => int32s.SelectMany(BitConverter.GetBytes).ToArray(),
            OnnxTensor.Double => doubles.SelectMany(BitConverter.GetBytes).ToArray(),
            _ => [],
        };
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        return new OnnxTensor(name, type, [.. dims], data);
    }

    /// <summary>A cursor over one protobuf message (a slice of the file).</summary>
    private sealed class Reader(byte[] buffer, int start, int end)
    {
        private int _pos = start;

        public bool More => _pos < end;

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = buffer[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (_pos > end) throw new FormatException("varint runs past the end of its message");
                    return result;
                }
            }
            throw new FormatException("varint longer than 10 bytes");
        }

        public (int Field, int Wire) Tag()
        {
            ulong tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        private int Length()
        {
            ulong n = Varint();
            if (n > (ulong)(end - _pos)) throw new FormatException($"a field of {n} bytes runs past the end of its message");
            return (int)n;
        }

        public Reader Sub()
        {
            int n = Length();
            var sub = new Reader(buffer, _pos, _pos + n);
            _pos += n;
            return sub;
        }

        public byte[] Bytes()
        {
            int n = Length();
            var result = buffer.AsSpan(_pos, n).ToArray();
            _pos += n;
            return result;
        }

        public string String()
        {
            int n = Length();
            string s = Encoding.UTF8.GetString(buffer, _pos, n);
            _pos += n;
            return s;
        }

        public float Float()
        {
            float f = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(_pos, 4));
            _pos += 4;
            return f;
        }

        public double Double()
        {
            double d = BinaryPrimitives.ReadDoubleLittleEndian(buffer.AsSpan(_pos, 8));
            _pos += 8;
            return d;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: { int n = Length(); _pos += n; break; } // not `_pos += Length()`: that adds to the position before the length was read
                case 5: _pos += 4; break;
                default: throw new FormatException($"unsupported protobuf wire type {wire}");
            }
            if (_pos > end) throw new FormatException("a field runs past the end of its message");
        }
    }
}
