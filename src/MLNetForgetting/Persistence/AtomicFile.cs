namespace MLNetForgetting.Persistence;

/// <summary>
/// Writes files so that a crash or kill midway never leaves a half-written file in place of a good
/// one: the content goes to a temporary file in the same folder, is flushed to disk, and is then
/// renamed over the target (rename is atomic within one file system). A process killed with SIGKILL
/// runs no cleanup and can leave its temporary file behind; the next write to the same target
/// removes such leftovers (<see cref="RemoveStaleTemporaries"/>).
/// </summary>
internal static class AtomicFile
{
    /// <summary>Test hook: when set, called after the temporary file is written and before the rename.</summary>
    internal static Action<string>? BeforeRename;

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStaleTemporaries(full);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            BeforeRename?.Invoke(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes temporary files that an earlier, killed write to <paramref name="path"/> left behind
    /// (<c>.name.PID.GUID.tmp</c>). A temporary whose process is still alive (a concurrent writer,
    /// including this process) is left alone.
    /// </summary>
    /// <returns>The number of files deleted.</returns>
    public static int RemoveStaleTemporaries(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) return 0;
        string prefix = $".{Path.GetFileName(full)}.";
        int removed = 0;
        foreach (string tmp in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            // Only our own pattern: .name.PID.GUID.tmp, with a PID that no running process has.
            string[] parts = Path.GetFileName(tmp)[prefix.Length..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                || parts[1].Length != 32 || IsAlive(pid)) continue;
            try { File.Delete(tmp); removed++; }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
