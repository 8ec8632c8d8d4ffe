namespace MLNetForgetting.Runtime;

/// <summary>Precision of the matrix products in training and inference forwards (<see cref="Modeling.Autocast"/>).</summary>
public enum MatmulPrecision
{
    /// <summary>float32 throughout (the default).</summary>
    Float32,
    /// <summary>
    /// bfloat16 products with float32 weights, optimizer and reductions (mixed precision, like
    /// <c>torch.autocast("cpu", torch.bfloat16)</c>). Faster on CPUs with AVX-512 BF16 or AMX
    /// (<see cref="CpuFeatures.HasBFloat16"/>); slower elsewhere. Results differ from float32 in the
    /// third significant digit.
    /// </summary>
    BFloat16,
}

/// <summary>What the CPU offers, read once from <c>/proc/cpuinfo</c> (Linux; false elsewhere).</summary>
internal static class CpuFeatures
{
    private static readonly Lazy<HashSet<string>> Flags = new(() =>
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return line is null ? new HashSet<string>() : new HashSet<string>(line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        }
        catch (IOException) { return new HashSet<string>(); }
        catch (UnauthorizedAccessException) { return new HashSet<string>(); }
    });

    /// <summary>True when the CPU has native bfloat16 dot products (AVX-512 BF16 or AMX BF16).</summary>
    public static bool HasBFloat16 => Flags.Value.Contains("avx512_bf16") || Flags.Value.Contains("amx_bf16");

    /// <summary>A warning when <paramref name="precision"/> will be slow on this CPU, else null.</summary>
    public static string? Warning(MatmulPrecision precision) => precision == MatmulPrecision.BFloat16 && !HasBFloat16
        ? "MatmulPrecision.BFloat16 was requested but this CPU has no AVX-512 BF16 or AMX: bfloat16 products are emulated and slower than float32."
        : null;
}
