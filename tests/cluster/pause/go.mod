module kuik-functions/pause

go 1.22
