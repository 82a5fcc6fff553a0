# -DelayUpdates and -Inplace on a push, against the private OpenSSH sshd of Support/TestSshServer.psm1 and compared
# with Debian's rsync doing the same over the same server (rsync -e ssh --delay-updates, --inplace --no-whole-file):
# identical fixtures, results compared item by item (type, mode, size, time, content). -Inplace must keep the
# destination file's inode, so a hard link to it elsewhere sees the new content (the point of --inplace); a push with
# -DelayUpdates whose SSH connection is killed part way must leave every destination file as it was (rsync's
# --delay-updates renames only at the end of the run, and so does a local -DelayUpdates run).
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/ConnectionFaults.ps1')
    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')
    . (Join-Path $PSScriptRoot 'Support/RsyncComparison.ps1')
    Start-RemoteTestSession 'rsafe'

    # A source and an older destination under $Root: unchanged, edited, retimed and remoded files, a large file with one
    # changed line (a delta with many matched blocks), a large file whose halves swapped (an in-place delta must not copy
    # blocks it already overwrote), new files in new and old directories, and a file only in the destination.
    function New-Fixture([string] $Root) {
        $src = Join-Path $Root 'src'
        $dst = Join-Path $Root 'dest'
        foreach ($name in 'same', 'edited', 'retimed', 'remoded', 'sub/deep') {
            Write-TestFile (Join-Path $dst $name) "content of $name"
        }
        Write-TestFile (Join-Path $dst 'only-here') 'stays'
        Write-TestFile (Join-Path $src 'same') 'content of same'
        Write-TestFile (Join-Path $src 'edited') 'content of edited, today and longer'
        Write-TestFile (Join-Path $src 'retimed') 'content of retimed' '2026-01-03 10:00:00'
        Write-TestFile (Join-Path $src 'remoded') 'content of remoded' '2026-01-01 10:00:00' '600'
        Write-TestFile (Join-Path $src 'sub/deep') 'content of deep, edited'
        Write-TestFile (Join-Path $src 'sub/new') 'a new file'
        Write-TestFile (Join-Path $src 'newdir/file') 'in a new directory'
        $lines = 1..40000 | ForEach-Object { "line $_ of the big file" }
        Write-TestFile (Join-Path $dst 'big') ($lines -join "`n") '2026-01-01 09:00:00'
        $lines[20000] = 'changed'
        Write-TestFile (Join-Path $src 'big') ($lines -join "`n")
        $halves = 1..40000 | ForEach-Object { "row $_ of the swapped file" }
        Write-TestFile (Join-Path $dst 'swapped') ($halves -join "`n") '2026-01-01 09:00:00'
        Write-TestFile (Join-Path $src 'swapped') (($halves[20000..39999] + $halves[0..19999]) -join "`n")
        & find $src -type d -exec touch -d '2026-01-02 00:00:00' '{}' +
        & find $dst -type d -exec touch -d '2025-12-01 00:00:00' '{}' +
    }

    function Get-Inode([string] $Path) { & stat -c '%d:%i' -- $Path }

    # The same push by rsync over ssh and by Sync-Directory, each on its own copy of the fixture. Before each push, a
    # hard link to every file of the destination is made outside it ($Root/links), and the inodes are noted.
    function Invoke-Both([string] $Name, [string[]] $RsyncOptions, [hashtable] $Parameters) {
        $result = @{}
        foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $work "$Name-$tool"
            New-Fixture $root
            $dst = Join-Path $root 'dest'
            $links = Join-Path $root 'links'
            $null = New-Item -ItemType Directory -Path $links
            $inodes = @{}
            foreach ($file in 'big', 'swapped', 'edited') {
                $null = & ln -- (Join-Path $dst $file) (Join-Path $links $file)
                $inodes[$file] = Get-Inode (Join-Path $dst $file)
            }
            if ($tool -eq 'rsync') {
                Invoke-RsyncOverSsh (@('-a') + $RsyncOptions + @('--', "$root/src/", "$($server.Alias):$dst/"))
            }
            else {
                $null = Sync-Directory -Path (Join-Path $root 'src') -Destination (Get-RemoteAddress $dst) @ssh @Parameters -ErrorAction Stop
            }
            $result[$tool] = [pscustomobject]@{
                Root   = $root
                Tree   = (Get-TreeListing $dst) -join "`n"
                Kept   = @(foreach ($file in 'big', 'swapped', 'edited') { "$file $((Get-Inode (Join-Path $dst $file)) -eq $inodes[$file])" }) -join ', '
                Linked = @(foreach ($file in 'big', 'swapped', 'edited') {
                        "$file $((Get-FileHash -LiteralPath (Join-Path $links $file)).Hash -eq (Get-FileHash -LiteralPath (Join-Path $root "src/$file")).Hash)"
                    }) -join ', '
            }
        }
        $result
    }

    Invoke-WarmUpPush
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe '-DelayUpdates on a push against rsync --delay-updates over ssh' {
    It 'leaves the same tree (directory times included) and no temp file or directory' {
        $result = Invoke-Both 'delay' @('--delay-updates') @{ DelayUpdates = $true }

        $result.psr.Tree | Should -Be $result.rsync.Tree
        $result.psr.Tree | Should -Match 'sub/new\|f'
        @(Get-ChildItem -LiteralPath (Join-Path $result.psr.Root 'dest') -Recurse -Force | Where-Object Name -Like '.~*').Count | Should -Be 0
        # Both replace updated files by new ones: the links outside keep the old content.
        $result.psr.Kept | Should -Be $result.rsync.Kept
        $result.psr.Kept | Should -Be 'big False, swapped False, edited False'
    }
}

Describe '-Inplace on a push against rsync --inplace --no-whole-file over ssh' {
    It 'leaves the same tree, rewrites each file in its own inode, and a hard link elsewhere sees the new content' {
        $result = Invoke-Both 'inplace' @('--inplace', '--no-whole-file') @{ Inplace = $true; TransferMode = 'Delta' }

        $result.psr.Tree | Should -Be $result.rsync.Tree
        $result.psr.Kept | Should -Be 'big True, swapped True, edited True'
        $result.psr.Kept | Should -Be $result.rsync.Kept
        $result.psr.Linked | Should -Be 'big True, swapped True, edited True'
        $result.psr.Linked | Should -Be $result.rsync.Linked
    }

    It 'sends only the changed blocks of a large file' {
        $root = Join-Path $work 'inplace-bytes'
        New-Fixture $root
        $items = Sync-Directory -Path (Join-Path $root 'src') -Destination (Get-RemoteAddress (Join-Path $root 'dest')) @ssh -Inplace -ErrorAction Stop
        $big = $items | Where-Object RelativePath -EQ 'big'
        $big.BytesMatched | Should -BeGreaterThan 900KB
        $big.BytesTransferred | Should -BeLessThan 64KB
        (Get-FileHash -LiteralPath (Join-Path $root 'dest/big')).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $root 'src/big')).Hash
    }
}

Describe 'A push with -DelayUpdates whose SSH connection is killed part way' {
    It 'leaves every destination file as it was, and the agent removes the files that waited' {
        $root = Join-Path $work 'delay-killed'
        $src = Join-Path $root 'src'
        $dst = Join-Path $root 'dest'
        foreach ($i in 0..9) {
            Write-TestFile (Join-Path $src "a$i.txt") "new $i" '2026-01-02 10:00:00'
            Write-TestFile (Join-Path $dst "a$i.txt") "old $i"
        }
        # 64 MiB at 8 MiB/s: the small files are done and waiting long before the kill.
        Write-RandomFile (Join-Path $src 'z.bin') 64MB 23
        Write-TestFile (Join-Path $dst 'z.bin') 'old z'
        $before = Get-TreeListing $dst

        $job = Start-BackgroundSync $src (Get-RemoteAddress $dst) ($ssh + @{ DelayUpdates = $true; BandwidthLimit = 8192 })
        Wait-Until { @(Get-ChildItem -LiteralPath $dst -Force -Filter '.~psr*~z.bin' | Where-Object Length -GT 8MB).Count -gt 0 } 'the push to have written 8 MiB of the big file'
        # The small files are finished, under their temp names, waiting for the burst at the end.
        @(Get-ChildItem -LiteralPath $dst -Force -Filter '.~psr*~a*.txt').Count | Should -Be 10
        Get-Content -LiteralPath (Join-Path $dst 'a0.txt') | Should -Be 'old 0'
        Stop-SshConnections
        $result = Receive-BackgroundSync $job

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        Wait-Until { @(Get-ChildItem -LiteralPath $dst -Force -Filter '.~psr*').Count -eq 0 } 'the agent to remove the waiting files'
        Get-TreeListing $dst | Should -Be $before

        # The next run completes the job.
        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -DelayUpdates -ErrorAction Stop
        Get-TreeListing $dst | Should -Be (Get-TreeListing $src)
    }
}
