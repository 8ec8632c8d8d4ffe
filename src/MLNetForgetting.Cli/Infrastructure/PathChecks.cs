namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Checks of input and output paths that every command runs before doing any work, so a typo or an
/// unwritable folder fails in a second with one clear line instead of after an hour of training.
/// Every method throws <see cref="CliUsageException"/> whose message names the option.
/// </summary>
public static class PathChecks
{
    /// <summary>An existing file; returns its full path.</summary>
    public static string InputFile(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} needs a file path");
        if (Directory.Exists(path)) throw new CliUsageException($"{option}: '{path}' is a folder, expected a file");
        if (!File.Exists(path)) throw new CliUsageException($"input file '{path}' does not exist");
        return Path.GetFullPath(path);
    }

    /// <summary>An existing file, or a folder holding at least one file matching <paramref name="pattern"/>; returns the files in ordinal order.</summary>
    public static IReadOnlyList<string> InputFileOrFolder(string? path, string option, string pattern)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} needs a file or folder path");
        if (File.Exists(path)) return new[] { Path.GetFullPath(path) };
        if (!Directory.Exists(path)) throw new CliUsageException($"input file '{path}' does not exist");
        var files = Directory.GetFiles(path, pattern).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new CliUsageException($"input folder '{path}' has no {pattern} files");
        return files;
    }

    /// <summary>An existing folder; returns its full path.</summary>
    public static string InputFolder(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} needs a folder path");
        if (!Directory.Exists(path)) throw new CliUsageException($"input folder '{path}' does not exist");
        return Path.GetFullPath(path);
    }

    /// <summary>
    /// A file the command will write: its folder is created if needed and proved writable by creating
    /// and deleting a probe file (permission bits alone mislead, e.g. for root or read-only mounts).
    /// Returns the full path.
    /// </summary>
    public static string OutputFile(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} needs a file path");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliUsageException($"cannot write {option} '{path}': it is a folder");
        EnsureWritableFolder(Path.GetDirectoryName(full)!, option, path);
        return full;
    }

    /// <summary>A folder the command will write into (created if needed, proved writable). Returns the full path.</summary>
    public static string OutputFolder(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} needs a folder path");
        string full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new CliUsageException($"cannot write {option} '{path}': it is a file, expected a folder");
        EnsureWritableFolder(full, option, path);
        return full;
    }

    private static void EnsureWritableFolder(string folder, string option, string given)
    {
        // A path "under a file" (a/file.txt/out.zip) makes CreateDirectory throw IOException; name the file.
        for (string? d = folder; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(d)) throw new CliUsageException($"cannot write {option} '{given}': '{d}' is a file, not a folder");
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".mlnf-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot write {option} '{given}': folder '{folder}' is not writable ({ErrorReporter.OneLine(e.Message)})", e);
        }
    }
}
