using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.Modeling;

/// <summary>
/// Mixed precision for the matrix products, like PyTorch's <c>torch.autocast("cpu", torch.bfloat16)</c>
/// (TorchSharp has no autocast): inside a scope opened with <see cref="Enable(ScalarType?)"/> on the current thread,
/// the model's linear layers, attention and MLM projection multiply in bfloat16 and return float32;
/// parameters, optimizer state, layer norms, softmax and losses stay float32. Pays on CPUs with
/// AVX-512 BF16 (oneDNN's bf16 kernels); elsewhere bf16 products are emulated and slower.
/// </summary>
internal static class Autocast
{
    [ThreadStatic] private static ScalarType? current;

    /// <summary>The reduced precision in effect on this thread, or null (float32 throughout).</summary>
    public static ScalarType? Current => current;

    /// <summary>A scope for <paramref name="precision"/> (<see cref="Runtime.MatmulPrecision.Float32"/>: one that disables autocast).</summary>
    public static IDisposable Enable(Runtime.MatmulPrecision precision) =>
        Enable(precision == Runtime.MatmulPrecision.BFloat16 ? ScalarType.BFloat16 : null);

    /// <summary>Opens a scope on this thread (nestable; disposing restores the previous state). <paramref name="dtype"/> null disables.</summary>
    public static IDisposable Enable(ScalarType? dtype = ScalarType.BFloat16)
    {
        if (dtype is { } d && d != ScalarType.BFloat16 && d != ScalarType.Float16)
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Autocast supports BFloat16 or Float16.");
        var previous = current;
        current = dtype;
        return new Restore(previous);
    }

    private sealed class Restore(ScalarType? previous) : IDisposable
    {
        private bool done;
        public void Dispose() { if (!done) { current = previous; done = true; } }
    }

    /// <summary><paramref name="layer"/>(<paramref name="input"/>), in the scope's precision when one is open.</summary>
    public static Tensor Linear(Linear layer, Tensor input) =>
        current is null ? layer.forward(input) : Linear(input, layer.weight!, layer.bias);

    /// <summary>x Wᵀ + b, in the scope's precision when one is open (the result is float32 either way).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        if (current is not { } dt) return nn.functional.linear(input, weight, bias);
        using var x = input.to(dt);
        using var w = weight.to(dt);
        using var b = bias?.to(dt);
        using var y = nn.functional.linear(x, w, b);
        return y.to(ScalarType.Float32);
    }

    /// <summary>Casts an attention operand (q, k or v) to the scope's precision; an alias when none is open.</summary>
    internal static Tensor Operand(Tensor t) => current is { } dt ? t.to(dt) : t.alias();

    /// <summary>Back to float32 after a reduced-precision product.</summary>
    internal static Tensor Result(Tensor t) => t.dtype == ScalarType.Float32 ? t.alias() : t.to(ScalarType.Float32);
}
