module example.com/resizer

go 1.19

require github.com/prometheus/client_golang v1.14.0
