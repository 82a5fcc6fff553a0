# The snapshot recipe of about_PSReplica_Snapshots, run as the topic prints it (the function is read out of
# docs/about_PSReplica_Snapshots.md) over six simulated days with edits, additions, deletions, renames and a mode
# change. After each day: the new snapshot equals the source as it was that day, files unchanged since the day
# before share an inode with the previous snapshot and changed ones do not, 'latest' names the new snapshot, and
# only the newest snapshots are kept.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-snapshots-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    $topic = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../../docs/about_PSReplica_Snapshots.md')
    $block = [regex]::Match($topic, '(?s)```powershell\r?\n(function Invoke-DailySnapshot.*?)```')
    if (-not $block.Success) { throw 'about_PSReplica_Snapshots.md no longer holds the Invoke-DailySnapshot recipe.' }
    . ([scriptblock]::Create($block.Groups[1].Value))

    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')

    # One line per item below $Root: path, type, mode, size, time and content hash.
    function Get-Tree([string] $Root) {
        foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y|%m|%s|%T@\n' | Sort-Object -CaseSensitive)) {
            $fields = $line.Split('|')
            if ($fields[1] -eq 'd') { $fields[3] = '-' }
            $path = Join-Path $Root $fields[0]
            $hash = if ($fields[1] -eq 'f') { (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash } else { '-' }
            ($fields -join '|') + "|$hash"
        }
    }

    function Get-Inode([string] $Path) { & stat -c '%d:%i' -- $Path }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'The daily snapshot recipe' {
    It 'keeps a linked, exact snapshot per day and prunes beyond -Keep' {
        $source = Join-Path $script:WorkRoot 'data'
        $root = Join-Path $script:WorkRoot 'backup'
        $start = [datetime]::new(2026, 11, 20, 0, 0, 0, [DateTimeKind]::Utc)
        $keep = 3
        $states = @{}
        $changed = @{}

        # Day 0: the initial data.
        foreach ($i in 1..8) { Write-TestFile (Join-Path $source "docs/file$i.txt") "document $i" $start.AddHours(-$i) }
        Write-TestFile (Join-Path $source 'photos/a.jpg') ('x' * 5000) $start.AddDays(-3)
        Write-TestFile (Join-Path $source 'notes.md') 'notes' $start.AddDays(-1)

        # What each later day does to the source; each returns the relative paths whose content or mode it changed.
        $days = @(
            { @() },
            { param($t) Write-TestFile (Join-Path $source 'docs/file1.txt') 'document 1, edited' $t; @('docs/file1.txt') },
            { param($t) Write-TestFile (Join-Path $source 'docs/new.txt') 'new today' $t; Remove-Item -LiteralPath (Join-Path $source 'docs/file2.txt'); @('docs/new.txt') },
            { param($t) Move-Item -LiteralPath (Join-Path $source 'docs/file3.txt') -Destination (Join-Path $source 'docs/renamed.txt'); @('docs/renamed.txt') },
            { param($t) & chmod 600 -- (Join-Path $source 'notes.md'); Write-TestFile (Join-Path $source 'photos/b.jpg') ('y' * 7000) $t; @('notes.md', 'photos/b.jpg') },
            { param($t) Write-TestFile (Join-Path $source 'docs/file4.txt') 'document 4' $t; @('docs/file4.txt') }  # same size, new time
        )

        $previous = $null
        for ($d = 0; $d -lt $days.Count; $d++) {
            $date = $start.AddDays($d)
            $name = $date.ToString('yyyy-MM-dd')
            $touched = @(& $days[$d] $date.AddHours(3))
            & touch -d $date.ToString('yyyy-MM-dd HH:mm:ss') -- $source (Join-Path $source 'docs') (Join-Path $source 'photos')
            $states[$name] = (Get-Tree $source) -join "`n"
            $changed[$name] = $touched

            $summary = Invoke-DailySnapshot -Source $source -Root $root -Keep $keep -Date $date
            $snapshot = Join-Path $root $name

            (Get-Tree $snapshot) -join "`n" | Should -Be $states[$name] -Because "snapshot $name must equal that day's source"
            (Get-Item -LiteralPath (Join-Path $root 'latest')).Target | Should -Be $name

            if ($previous) {
                $linked = 0
                foreach ($rel in (& find $snapshot -type f -printf '%P\n')) {
                    $old = Join-Path $previous $rel
                    $shares = (Test-Path -LiteralPath $old) -and (Get-Inode $old) -eq (Get-Inode (Join-Path $snapshot $rel))
                    if ($rel -in $touched) {
                        $shares | Should -BeFalse -Because "$rel changed on $name"
                    }
                    else {
                        $shares | Should -BeTrue -Because "$rel did not change on $name"
                        $linked++
                    }
                }
                $summary.Linked | Should -Be $linked
            }
            else {
                $summary.Linked | Should -Be 0
            }
            $previous = $snapshot
        }

        $dated = @(Get-ChildItem -LiteralPath $root -Directory | Where-Object { -not $_.LinkType } | ForEach-Object Name | Sort-Object)
        $dated | Should -Be @(3..5 | ForEach-Object { $start.AddDays($_).ToString('yyyy-MM-dd') })
        # Pruning removed the oldest snapshots, not the data of the ones that remain (linked to them).
        foreach ($name in $dated) { (Get-Tree (Join-Path $root $name)) -join "`n" | Should -Be $states[$name] }
    }
}
