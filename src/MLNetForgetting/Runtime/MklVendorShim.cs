using System.Runtime.InteropServices;

namespace MLNetForgetting.Runtime;

/// <summary>
/// Opt-in loader of the MKL vendor-check override (<c>libmlnf_mkl_vendor.so</c>, built from
/// <c>build/native/mlnf_mkl_vendor.c</c> when the project sets <c>MLNetForgettingMklVendorShim=true</c>).
/// On AMD CPUs the oneMKL inside libtorch takes a slower generic path; the shim makes MKL's vendor check
/// answer "Intel" so it dispatches on the instruction sets the CPU reports. It relies on an undocumented
/// MKL function, so it is never on by default: it loads only when the built file sits next to the
/// application or <see cref="Variable"/> names it, and <c>MLNF_MKL_VENDOR_SHIM=off</c> disables it.
/// Must run before libtorch is loaded (the first torch call); <see cref="TorchRuntime"/> does that.
/// </summary>
internal static class MklVendorShim
{
    /// <summary>Environment variable: a path to the shim, or <c>off</c>/<c>0</c> to skip it.</summary>
    public const string Variable = "MLNF_MKL_VENDOR_SHIM";
    /// <summary>File name the MSBuild property writes into the output folder.</summary>
    public const string FileName = "libmlnf_mkl_vendor.so";

    private const int RtldNow = 0x2, RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen(string path, int flags);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern IntPtr DlError();

    /// <summary>The shim file that was loaded, or null when none was.</summary>
    public static string? LoadedPath { get; private set; }

    /// <summary>The file to load under this environment, or null: the variable's path, else the built copy next to the app.</summary>
    public static string? Resolve(string? variable, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(variable))
        {
            string v = variable.Trim();
            if (v is "0" || v.Equals("off", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)) return null;
            if (!File.Exists(v)) throw new InvalidOperationException($"{Variable}='{variable}' is not a file; build the shim (see docs/benchmarks.md) or set {Variable}=off.");
            return Path.GetFullPath(v);
        }
        string beside = Path.Combine(baseDirectory, FileName);
        return File.Exists(beside) ? beside : null;
    }

    /// <summary>Loads the shim into the global symbol scope if this environment asks for it (Linux only).</summary>
    internal static void LoadIfRequested()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? path = Resolve(Environment.GetEnvironmentVariable(Variable), AppContext.BaseDirectory);
        if (path is null) return;
        // RTLD_GLOBAL puts the symbol ahead of libtorch's own definition when libtorch is loaded afterwards.
        if (DlOpen(path, RtldNow | RtldGlobal) == IntPtr.Zero)
            throw new InvalidOperationException($"Could not load the MKL vendor shim '{path}': {Marshal.PtrToStringAnsi(DlError())}. Set {Variable}=off to run without it.");
        LoadedPath = path;
    }
}
