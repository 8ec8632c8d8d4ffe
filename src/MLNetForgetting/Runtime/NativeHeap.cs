using System.Runtime.InteropServices;

namespace MLNetForgetting.Runtime;

/// <summary>What glibc's allocator holds (mallinfo2, summed over every arena), in bytes.</summary>
/// <param name="Arena">Bytes obtained with brk/sbrk and arena mmaps (non-mmapped chunks, in use or free).</param>
/// <param name="Mmapped">Bytes in chunks served by their own mmap (freed straight back to the kernel).</param>
/// <param name="InUse">Bytes in allocated non-mmapped chunks.</param>
/// <param name="Free">Bytes in free non-mmapped chunks: kept by malloc, resident if touched before.</param>
/// <param name="TopReleasable">Bytes at the top of the main heap that <c>malloc_trim</c> could give back.</param>
internal readonly record struct NativeHeapInfo(long Arena, long Mmapped, long InUse, long Free, long TopReleasable);

/// <summary>
/// The C allocator under libtorch (glibc malloc on Linux). Tensor buffers come from malloc; freed
/// ones stay with malloc as free chunks, and with varying tensor sizes those chunks fragment, so the
/// resident set can grow although nothing leaks. This class reads the allocator's counters and
/// gives free pages back (<see cref="Trim"/>). Everything is a no-op returning false/null where the C
/// library is not glibc (macOS, Windows, musl).
/// </summary>
internal static class NativeHeap
{
    /// <summary>Environment variable that overrides <see cref="DefaultTrimInterval"/> (a whole number of updates; 0 turns trimming off).</summary>
    public const string TrimIntervalVariable = "MLNF_MALLOC_TRIM_INTERVAL";

    /// <summary>Trim interval used when <c>TrainingLoopOptions.TrimNativeMemoryInterval</c> is null.</summary>
    public const long StandardTrimInterval = 100;

    private static readonly Lazy<bool> Glibc = new(DetectGlibc);
    private static readonly Lazy<long> TrimIntervalFromEnvironment = new(() => ParseTrimInterval(Environment.GetEnvironmentVariable(TrimIntervalVariable)));

    /// <summary>
    /// Updates between two <see cref="Trim"/> calls of a training loop whose options leave the interval
    /// null: <see cref="StandardTrimInterval"/>, or <see cref="TrimIntervalVariable"/> when set (read once).
    /// </summary>
    public static long DefaultTrimInterval => TrimIntervalFromEnvironment.Value;

    /// <summary>Parses a value of <see cref="TrimIntervalVariable"/>; null or blank gives <see cref="StandardTrimInterval"/>.</summary>
    public static long ParseTrimInterval(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return StandardTrimInterval;
        if (!long.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long parsed))
            throw new InvalidOperationException($"{TrimIntervalVariable}='{value}' is not a whole number of updates (0 turns trimming off).");
        return parsed;
    }

    /// <summary>True on Linux with glibc, where <see cref="Trim"/> and <see cref="HeapInfo"/> work.</summary>
    public static bool IsGlibc => Glibc.Value;

    /// <summary>
    /// <c>malloc_trim(0)</c>: returns every whole free page of every malloc arena to the kernel
    /// (madvise), which lowers the resident set without moving any live allocation. Costs about a
    /// millisecond per few hundred MB of heap. False when nothing was released or this is not glibc.
    /// </summary>
    public static bool Trim() => IsGlibc && MallocTrim(0) != 0;

    /// <summary>The allocator's counters (glibc 2.33+), or null elsewhere.</summary>
    public static NativeHeapInfo? HeapInfo()
    {
        if (!IsGlibc) return null;
        try
        {
            var m = MallInfo2();
            return new NativeHeapInfo((long)m.Arena, (long)m.Hblkhd, (long)m.Uordblks, (long)m.Fordblks, (long)m.Keepcost);
        }
        catch (EntryPointNotFoundException) { return null; } // glibc before 2.33
    }

    private static bool DetectGlibc()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return GnuGetLibcVersion() != IntPtr.Zero; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; } // musl
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2Struct
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr GnuGetLibcVersion();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2Struct MallInfo2();
}
