using System.Globalization;
using System.Text.Json;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Keeps a benchmark from reporting a ratio against a crippled peer. Debian's python3-torch runs on the
/// netlib reference BLAS unless libopenblas0-pthread is installed, and then a "20× faster than PyTorch"
/// is a statement about the BLAS, not about us. Every benchmark that compares against a peer process
/// (today: vs-pytorch) asks the peer which BLAS it loaded and measures its FP32 matmul rate next to ours
/// before the first timed step, and refuses (exit 2, one line saying what to install) when
/// <list type="bullet">
/// <item>the peer loaded the reference BLAS, or</item>
/// <item>OpenBLAS chose kernels older than the CPU (e.g. Debian's OpenBLAS 0.3.21 falls back to its SSE3
/// "Prescott" kernels on some AVX-512 Intel CPUs it does not recognise), or</item>
/// <item>its matmul rate is more than <see cref="MaxSlowdown"/> times below ours on the same machine,</item>
/// </list>
/// unless <see cref="Flag"/> is given; then the ratios are printed with a warning beside them.
/// </summary>
internal static class PeerGuard
{
    public const string Flag = "--allow-slow-peer";

    /// <summary>The Debian package that gives python3-torch an optimised BLAS.</summary>
    public const string Package = "libopenblas0-pthread";

    /// <summary>
    /// Largest accepted (our matmul rate / the peer's). In every vs-pytorch run of results.jsonl the peer on
    /// OpenBLAS with the CPU's kernels reached 1.1× to 2.2× our 2048³ rate; the reference BLAS measured
    /// 20.7× below ours (2.0 against 41.4 GFLOP/s at 1024³) and OpenBLAS on fallback SSE3 kernels 3× to 6×
    /// below its own AVX-512 kernels (docs/benchmarks.md, "The peer's BLAS"). 4 lies between a fair and a
    /// crippled peer with room for a shared machine's noise (single samples vary 2–3× there); the kernel
    /// check above catches the fallback case whatever its rate.
    /// </summary>
    public const double MaxSlowdown = 4.0;

    /// <summary>OpenBLAS kernel families that use AVX2 or AVX-512 (names as openblas_get_corename returns them).</summary>
    private static readonly HashSet<string> ModernOpenBlasKernels = new(StringComparer.OrdinalIgnoreCase)
        { "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator" };

    /// <summary>Removes <see cref="Flag"/> from <paramref name="args"/> (it takes no value) and says whether it was there.</summary>
    public static bool TakeFlag(ref string[] args)
    {
        bool found = args.Contains(Flag, StringComparer.Ordinal);
        args = args.Where(a => a != Flag).ToArray();
        return found;
    }

    /// <summary>What a peer reported about its BLAS and matmul rate, and what is wrong with it (empty when fair).</summary>
    public sealed record Check(string Peer, string Blas, string BlasDetail, string? BlasLibrary, double PeerGflops, double? OursGflops, int MatmulN, IReadOnlyList<string> Problems)
    {
        public bool Fair => Problems.Count == 0;

        /// <summary>"its BLAS and matmul" in a few words, for tables and result lines.</summary>
        public string Summary => string.Create(CultureInfo.InvariantCulture, $"{BlasDetail}, {MatmulN}³ matmul {PeerGflops:F1} GFLOP/s")
            + (OursGflops is double o ? string.Create(CultureInfo.InvariantCulture, $" (ours {o:F1})") : "");

        public string Warning => Fair ? "" : $"WARNING: unfair peer ({string.Join("; ", Problems)})";

        public Dictionary<string, object?> ToJson() => new()
        {
            ["blas"] = Blas, ["blas_detail"] = BlasDetail, ["blas_library"] = BlasLibrary, ["matmul_n"] = MatmulN,
            ["peer_matmul_gflops"] = PeerGflops, ["ours_matmul_gflops"] = OursGflops,
            ["max_slowdown"] = MaxSlowdown, ["fair"] = Fair, ["problems"] = Problems,
        };
    }

    /// <summary>
    /// Judges one peer from its ready line (<paramref name="info"/>: the "blas", "blas_detail" and
    /// "blas_library" fields of benchmarks/peer/peer_blas.py) and the two matmul medians.
    /// </summary>
    public static Check Judge(string peer, string info, double peerGflops, double? oursGflops, int matmulN, IReadOnlySet<string>? cpuFlags = null)
    {
        cpuFlags ??= CpuFlags();
        using var doc = JsonDocument.Parse(info);
        var root = doc.RootElement;
        string Field(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        string blas = Field("blas") is { Length: > 0 } b ? b : "unknown";
        string detail = Field("blas_detail") is { Length: > 0 } d ? d : "BLAS not reported by the peer";
        string? library = Field("blas_library") is { Length: > 0 } l ? l : null;
        var problems = new List<string>();
        if (blas == "reference")
            problems.Add($"it runs on the reference BLAS ({library ?? detail})");
        string kernels = Field("blas_kernels");
        if (blas == "openblas" && kernels.Length > 0 && cpuFlags.Contains("avx2") && !ModernOpenBlasKernels.Contains(kernels))
        {
            string better = cpuFlags.Contains("avx512f") ? "SkylakeX" : "Haswell";
            problems.Add($"OpenBLAS runs its {kernels} kernels on a CPU with {(better == "SkylakeX" ? "AVX-512" : "AVX2")}; run with OPENBLAS_CORETYPE={better}"
                + (better == "SkylakeX" ? " (or --configs ...,peer-skx)" : ""));
        }
        if (oursGflops is double ours && peerGflops * MaxSlowdown < ours)
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"its {matmulN}³ matmul reaches {peerGflops:F1} GFLOP/s against ours {ours:F1}, {ours / Math.Max(peerGflops, 1e-9):F1}× slower (the limit is {MaxSlowdown:F0}×); give it an optimised BLAS"));
        return new Check(peer, blas, detail, library, peerGflops, oursGflops, matmulN, problems);
    }

    /// <summary>The one line printed before exit code 2.</summary>
    public static string Refusal(string benchmark, IEnumerable<Check> unfair) =>
        $"{benchmark}: refusing to compare: " + string.Join("; ", unfair.Select(c => $"peer '{c.Peer}': {string.Join(", and ", c.Problems)}"))
        + $". The fair peer is PyTorch on OpenBLAS with the CPU's own kernels (Debian: apt-get install {Package}); or pass {Flag} to print the ratios with a warning.";

    /// <summary>The CPU feature flags of this machine (/proc/cpuinfo); empty where there is none.</summary>
    public static IReadOnlySet<string> CpuFlags()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("flags", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new HashSet<string>();
    }
}
